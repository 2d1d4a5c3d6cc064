using System.Text;
using Modulith.Ingestion.Segment;

namespace Modulith.UnitTests.Ingestion;

/// <summary>The streaming path stores exactly what the tree path stores, and leaves to it what it does not take.</summary>
public sealed class StreamingNormalizerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string> StreamedMessages => new()
    {
        { "track", """{"userId":"u1","event":"Product Viewed","messageId":"m1","properties":{"sku":"A-1","price":12.50,"qty":2,"big":1E+2,"neg":-1.5e-3,"tags":["x","y",null,true,false],"nested":{"deep":{"deeper":[{"a":1}]}}}}""" },
        { "track", """{"anonymousId":"a1","event":"  Order Completed  ","messageId":"m2","properties":{"note":"say \"hi\"\n","plus":"a\u002Bb","emoji":"😀","letters":"Łódź","html":"<b>&'"},"timestamp":"2026-12-07T11:59:00Z","sentAt":"2026-12-07T12:00:05Z"}""" },
        { "track", """{"userId":"u1","event":"Signed Up","messageId":"m3","writeKey":"wk_secret","receivedAt":"2020-01-01T00:00:00Z","type":"page","extra":{"k\u00e9y":"v"}}""" },
        { "track", """{"userId":"u1","anonymousId":null,"event":"Cart Viewed","messageId":"m4","originalTimestamp":"2026-12-07T11:00:00Z","timestamp":null,"properties":null,"context":{"ip":"1.2.3.4","page":{"url":"https://shop.example/?utm_source=x&a=1"}}}""" },
        { "track", """{"userId":"u1","event":"Cart Viewed","messageId":"m5","timestamp":"2026-12-07T11:00:00Z","originalTimestamp":"2026-12-07T10:00:00Z"}""" },
        { "track", """{"userId":"u1","event":"Future","messageId":"m6","timestamp":"2027-12-07T11:00:00Z"}""" },
        { "identify", """{"userId":"u2","traits":{"email":"Jane+Shop@example.com","phone":"+48 600 100 200"},"messageId":"m7","context":{"traits":{"name":"Jane"}}}""" },
        { "page", """{"anonymousId":"a2","name":"Home","messageId":"m8","properties":{"path":"/"}}""" },
        { "page", """{"anonymousId":"a2","name":null,"messageId":"m9"}""" },
        { "screen", """{"userId":"u3","messageId":"m10"}""" },
        { "alias", """{"userId":"u4","previousId":"a4","messageId":"m11"}""" },
        { "group", """{"userId":"u5","groupId":"g5","traits":{"plan":"pro"},"messageId":"m12"}""" },
    };

    // The tree path's: a padded id, a numeric id, an escaped id, an escaped field name, a GA4 event name.
    public static TheoryData<string, string> TreeMessages => new()
    {
        { "track", """{"userId":"  u6  ","event":"x","messageId":"m13"}""" },
        { "track", """{"userId":12345,"event":"x","messageId":"m14"}""" },
        { "track", """{"userId":"u\u0037","event":"x","messageId":"m15"}""" },
        { "track", """{"user\u0049d":"u8","event":"x","messageId":"m16"}""" },
        { "track", """{"userId":"u9","event":"purchase","messageId":"m17","properties":{"value":10,"currency":"EUR","transaction_id":"t1"}}""" },
    };

    private static IEnumerable<(string Type, string Json)> Messages =>
        StreamedMessages.Concat(TreeMessages).Select(row => ((string)row[0], (string)row[1]));

    [Theory]
    [MemberData(nameof(StreamedMessages))]
    public void A_common_message_is_stored_as_the_tree_path_stores_it_without_the_tree(string type, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.NotNull(StreamingNormalizer.TryNormalize(body, type, batchSentAt: null, Now));
        AssertSame(SegmentNormalizer.NormalizeSingle(body, type, Now, streaming: false), SegmentNormalizer.NormalizeSingle(body, type, Now));
    }

    [Theory]
    [MemberData(nameof(TreeMessages))]
    public void An_unusual_message_goes_the_tree_path(string type, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Null(StreamingNormalizer.TryNormalize(body, type, batchSentAt: null, Now));
        var streamed = SegmentNormalizer.NormalizeSingle(body, type, Now);
        var tree = SegmentNormalizer.NormalizeSingle(body, type, Now, streaming: false);
        AssertSame(tree, streamed);
    }

    [Fact]
    public void A_batch_is_stored_as_the_tree_path_stores_it()
    {
        var messages = Messages
            .Where(m => !m.Json.Contains("\"type\"", StringComparison.Ordinal))
            .Select(m => m.Json.Insert(1, $"\"type\":\"{m.Type}\","));
        var body = Encoding.UTF8.GetBytes("{\"batch\":[" + string.Join(',', messages) + "],\"sentAt\":\"2026-12-07T12:00:10Z\"}");
        var streamed = SegmentNormalizer.NormalizeBatch(body, Now);
        var tree = SegmentNormalizer.NormalizeBatch(body, Now, streaming: false);
        Assert.Null(tree.Error);
        AssertSame(tree, streamed);
    }

    [Theory]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"e1"}],"writeKey":"wk_1","sentAt":"2026-12-07T12:00:10Z","extra":{"a":[1,2]}}""")]
    [InlineData("""{"writeKey":null,"context":null,"sentAt":null,"batch":[{"type":"track","userId":"u1","event":"x","messageId":"e1"},{"type":"track","userId":"  u2 ","event":"y","messageId":"e2"}]}""")]
    [InlineData("""{"writeKey":7,"batch":[{"type":"nope","userId":"u1","messageId":"e1"}]}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","event":"y"}]}""")]
    public void A_plain_envelope_is_read_without_the_tree_and_gives_the_tree_paths_result(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.NotNull(StreamingEnvelope.TryRead(body));
        AssertSame(SegmentNormalizer.NormalizeBatch(body, Now, streaming: false), SegmentNormalizer.NormalizeBatch(body, Now));
    }

    [Theory]
    [InlineData("""{"sentAt":"2026-12-07T12:00:10Z"}""")]
    [InlineData("""{"batch":{}}""")]
    [InlineData("""{"batch":[]}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"},7]}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"batch":[]}""")]
    [InlineData("""{"b\u0061tch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}]}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"writeKey":"wk\u005f1"}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"sentAt":"yesterday"}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"sentAt":"2026-12-07T12:00:10\u005a"}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"context":{"ip":"1.1.1.1"}}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}],"context":"web"}""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}]} trailing""")]
    [InlineData("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"x1"}""")]
    [InlineData("""[{"type":"track","userId":"u1","event":"x","messageId":"x1"}]""")]
    public void An_unusual_envelope_is_read_as_one_tree(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Null(StreamingEnvelope.TryRead(body));
        AssertSame(SegmentNormalizer.NormalizeBatch(body, Now, streaming: false), SegmentNormalizer.NormalizeBatch(body, Now));
    }

    [Fact]
    public void A_batch_with_a_shared_context_is_stored_as_the_tree_path_stores_it()
    {
        var body = Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","userId":"u1","event":"x","messageId":"b1"},{"type":"track","userId":"u1","event":"y","messageId":"b2","context":{"ip":"1.1.1.1"}}],"context":{"library":{"name":"analytics-node"},"ip":"9.9.9.9"}}""");
        var streamed = SegmentNormalizer.NormalizeBatch(body, Now);
        AssertSame(SegmentNormalizer.NormalizeBatch(body, Now, streaming: false), streamed);
        Assert.Contains("analytics-node", streamed.Events[1].Payload, StringComparison.Ordinal);
        Assert.Contains("1.1.1.1", streamed.Events[1].Payload, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"event":"x"}""")]
    [InlineData("""{"userId":"u1"}""")]
    [InlineData("""{"userId":"u1","event":"x","properties":[1]}""")]
    [InlineData("""{"userId":"u1","event":"x","timestamp":"yesterday"}""")]
    [InlineData("""{"userId":{"a":1},"event":"x"}""")]
    [InlineData("""{"userId":"u1","event":"x"} trailing""")]
    [InlineData("""{"userId":"u1","event":"x",}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"userId":"u1","userId":"u2","event":"x"}""")]
    [InlineData("")]
    public void An_invalid_message_gets_the_tree_paths_error(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var streamed = SegmentNormalizer.NormalizeSingle(body, "track", Now);
        Assert.NotNull(streamed.Error);
        Assert.Equal(SegmentNormalizer.NormalizeSingle(body, "track", Now, streaming: false).Error, streamed.Error);
    }

    [Fact]
    public void A_field_named_twice_is_a_clear_error_in_a_single_message_and_in_a_batch()
    {
        const string expected = "An object in the body names the same field more than once.";
        Assert.Equal(expected, SegmentNormalizer.NormalizeSingle("""{"userId":"u1","userId":"u2","event":"x"}"""u8, "track", Now).Error);
        Assert.Equal(expected, SegmentNormalizer.NormalizeBatch("""{"batch":[{"type":"track","userId":"u1","event":"x","event":"y"}]}"""u8, Now).Error);
        Assert.Equal(expected, SegmentNormalizer.NormalizeBatch("""{"batch":[{"type":"track","userId":"u1","event":"x"}],"context":{"ip":"1","ip":"2"}}"""u8, Now).Error);
    }

    [Fact]
    public void A_message_without_an_id_gets_one_from_the_server()
    {
        var result = SegmentNormalizer.NormalizeSingle("""{"userId":"u1","event":"x","writeKey":"wk_1"}"""u8, "track", Now);
        var stored = Assert.Single(result.Events);
        Assert.StartsWith("srv-", stored.MessageId, StringComparison.Ordinal);
        Assert.Contains($"\"messageId\":\"{stored.MessageId}\"", stored.Payload, StringComparison.Ordinal);
        Assert.Equal("wk_1", result.WriteKey);
        Assert.DoesNotContain("wk_1", stored.Payload, StringComparison.Ordinal);
    }

    private static void AssertSame(NormalizeResult expected, NormalizeResult actual)
    {
        Assert.Equal(expected.Error, actual.Error);
        Assert.Equal(expected.WriteKey, actual.WriteKey);
        Assert.Equal(expected.Events.Count, actual.Events.Count);
        for (var i = 0; i < expected.Events.Count; i++)
        {
            Assert.Equal(expected.Events[i], actual.Events[i]);
        }
    }
}
