using System.Text;
using System.Text.Json.Nodes;
using Modulith.Ingestion.Segment;

namespace Modulith.UnitTests.Ingestion;

public sealed class SegmentNormalizerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static NormalizeResult Single(string json, string type = "track") => SegmentNormalizer.NormalizeSingle(Encoding.UTF8.GetBytes(json), type, Now);

    private static NormalizeResult Batch(string json) => SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes(json), Now);

    [Fact]
    public void The_stored_payload_keeps_plus_signs_and_letters_as_written_and_escapes_only_what_JSON_needs()
    {
        var result = Single("""{"anonymousId":"a1","traits":{"email":"Jane+Shop@example.com","city":"Łódź","note":"say \"hi\""},"timestamp":"2026-11-22T13:00:00+01:00"}""", "identify");
        var payload = Assert.Single(result.Events).Payload;
        Assert.Contains("\"Jane+Shop@example.com\"", payload, StringComparison.Ordinal);
        Assert.Contains("\"Łódź\"", payload, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", payload, StringComparison.Ordinal);
        Assert.Equal("say \"hi\"", JsonNode.Parse(payload)!["traits"]!["note"]!.GetValue<string>());
        Assert.Equal(2, payload.Count(c => c == '\\'));
    }

    [Theory]
    [InlineData("""{"userId":"a\u0000b","event":"x"}""", "The value of 'userId' contains the NUL character")]
    [InlineData("""{"userId":"u","event":"x\u0000"}""", "The value of 'event' contains the NUL character")]
    [InlineData("""{"userId":"u","event":"x","properties":{"tags":["ok","a\u0000"]}}""", "The value of 'tags' contains the NUL character")]
    [InlineData("""{"userId":"u","event":"x","properties":{"a\u0000":1}}""", "A field name in the body contains the NUL character")]
    [InlineData("""{"userId":"s\ud800","event":"x"}""", "The value of 'userId' contains an unpaired surrogate")]
    [InlineData("""{"userId":"u","event":"x","properties":{"k":"\udc00 tail"}}""", "The value of 'k' contains an unpaired surrogate")]
    public void Text_that_cannot_be_stored_is_refused_with_the_field_that_holds_it(string json, string expected)
    {
        Assert.StartsWith(expected, Single(json).Error, StringComparison.Ordinal);
        Assert.StartsWith(expected, Batch($$"""{"batch":[{"type":"track","userId":"ok","event":"fine"},{{json[..1]}}"type":"track",{{json[1..]}}]}""").Error, StringComparison.Ordinal);
        Assert.StartsWith(expected, SegmentNormalizer.NormalizeSingle(Encoding.UTF8.GetBytes(json), "track", Now, streaming: false).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Escaped_text_that_can_be_stored_is_kept()
    {
        var result = Single("""{"userId":"u","event":"x","properties":{"word":"caf\u00e9","smile":"\ud83d\ude00","path":"C:\\u0000","tab":"a\tb"}}""");
        var properties = JsonNode.Parse(Assert.Single(result.Events).Payload)!["properties"]!;
        Assert.Equal("café", properties["word"]!.GetValue<string>());
        Assert.Equal("\U0001F600", properties["smile"]!.GetValue<string>());
        Assert.Equal("C:\\u0000", properties["path"]!.GetValue<string>());
        Assert.Equal("a\tb", properties["tab"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xC3 })]
    public void Bytes_that_are_not_UTF_8_are_refused_in_ids_values_and_batches(byte[] invalid)
    {
        byte[] Body(string before, string after) => [.. Encoding.UTF8.GetBytes(before), .. invalid, .. Encoding.UTF8.GetBytes(after)];

        Assert.NotNull(SegmentNormalizer.NormalizeSingle(Body("{\"userId\":\"a", "b\",\"event\":\"x\"}"), "track", Now).Error);
        Assert.NotNull(SegmentNormalizer.NormalizeSingle(Body("{\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"k\":\"a", "\"}}"), "track", Now).Error);
        Assert.NotNull(SegmentNormalizer.NormalizeBatch(Body("{\"batch\":[{\"type\":\"track\",\"userId\":\"a", "\",\"event\":\"x\"}]}"), Now).Error);
        Assert.NotNull(SegmentNormalizer.NormalizeBatch(Body("{\"writeKey\":\"k", "\",\"batch\":[{\"type\":\"track\",\"userId\":\"a\",\"event\":\"x\"}]}"), Now).Error);
    }

    [Fact]
    public void A_batch_whose_shared_context_holds_a_NUL_is_refused()
    {
        var result = Batch("""{"batch":[{"type":"track","userId":"u","event":"x"}],"context":{"campaign":{"source":"a\u0000"}}}""");
        Assert.StartsWith("The value of 'source' contains the NUL character", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Events);
    }

    [Theory]
    [InlineData("2026-12-07T11:59:00Z")]
    [InlineData("2026-12-07T11:59:00.123Z")]
    [InlineData("2026-12-07T11:59:00.1234567Z")]
    [InlineData("2026-12-07T11:59:00.5+01:00")]
    [InlineData("2026-12-07T00:15:00-09:30")]
    [InlineData("2024-02-29T23:59:59.9999999+14:00")]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    public void The_usual_timestamp_shape_is_read_at_fixed_places_to_the_instant_the_general_parser_reads(string text)
    {
        Assert.True(SegmentNormalizer.TryParseIsoTimestamp(text, out var fast));
        Assert.True(DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var general));
        Assert.Equal(general.UtcTicks, fast.UtcTicks);
        Assert.Equal(general.Offset, fast.Offset);
    }

    [Theory]
    [InlineData("2026-12-07T11:59:00")]
    [InlineData("2026-12-07 11:59:00Z")]
    [InlineData("2026-12-07T11:59:00z")]
    [InlineData("2026-12-07T11:59:00.12345678Z")]
    [InlineData("2026-12-07T11:59:00.Z")]
    [InlineData("2026-02-30T11:59:00Z")]
    [InlineData("2026-12-07T24:00:00Z")]
    [InlineData("2026-12-07T11:59:60Z")]
    [InlineData("2026-12-07T11:59:00+0100")]
    [InlineData("2026-12-07T11:59:00+15:00")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("Mon, 07 Dec 2026 11:59:00 GMT")]
    public void Other_timestamp_shapes_go_to_the_general_parser(string text)
    {
        Assert.False(SegmentNormalizer.TryParseIsoTimestamp(text, out _));
    }

    [Fact]
    public void Random_timestamps_in_the_usual_shape_read_as_the_general_parser_reads_them()
    {
        var random = new Random(31);
        for (var i = 0; i < 20_000; i++)
        {
            var at = new DateTime(random.NextInt64(DateTime.MinValue.AddDays(1).Ticks, DateTime.MaxValue.AddDays(-1).Ticks));
            var fraction = random.Next(8) is var digits and > 0 ? "." + at.ToString(digits == 1 ? "%f" : new string('f', digits), System.Globalization.CultureInfo.InvariantCulture) : "";
            var offset = random.Next(3) == 0 ? "Z" : $"{(random.Next(2) == 0 ? '+' : '-')}{random.Next(14):D2}:{random.Next(60):D2}";
            var text = at.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + fraction + offset;
            Assert.True(SegmentNormalizer.TryParseIsoTimestamp(text, out var fast), text);
            Assert.True(SegmentNormalizer.TryParseTimestamp(text, out _), text);
            DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var general);
            Assert.True(general.UtcTicks == fast.UtcTicks && general.Offset == fast.Offset, $"{text}: {fast:O} against {general:O}");
        }
    }

    [Fact]
    public void A_track_without_user_or_anonymous_id_is_rejected()
    {
        var result = Single("""{"event":"Product Viewed"}""");
        Assert.Equal("Either 'userId' or 'anonymousId' is required.", result.Error);
    }

    [Fact]
    public void A_track_needs_an_event_name()
    {
        Assert.Contains("'event' is required", Single("""{"userId":"u1"}""").Error);
        Assert.Contains("'event' is required", Single("""{"userId":"u1","event":"  "}""").Error);
    }

    [Theory]
    [InlineData("""{"userId":{"a":1},"event":"x"}""", "'userId' must be a string or a number.")]
    [InlineData("""{"userId":"u","event":"x","properties":[1]}""", "'properties' must be an object.")]
    [InlineData("""{"userId":"u","event":"x","timestamp":"yesterday"}""", "'timestamp' must be an ISO 8601 date-time string.")]
    [InlineData("""[1,2]""", "The body must be a JSON object.")]
    [InlineData("", "The body is empty; send a JSON object.")]
    public void Wrong_types_get_a_clear_message(string json, string expected)
    {
        Assert.Equal(expected, Single(json).Error);
    }

    [Fact]
    public void Invalid_json_is_rejected_with_the_parser_message()
    {
        Assert.StartsWith("The body is not valid JSON", Single("""{"userId":"u1",""").Error);
    }

    [Fact]
    public void Numeric_user_ids_are_kept_as_text()
    {
        var result = Single("""{"userId":450789469,"event":"Signed Up"}""");
        Assert.Null(result.Error);
        Assert.Equal("450789469", result.Events[0].UserId);
    }

    [Fact]
    public void An_event_over_32_KB_is_rejected()
    {
        var big = new string('x', 33 * 1024);
        Assert.Contains("32 KB", Single("{\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"p\":\"" + big + "\"}}").Error);
    }

    [Fact]
    public void A_batch_over_500_KB_is_rejected()
    {
        var message = "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"p\":\"" + new string('x', 20 * 1024) + "\"}}";
        var json = "{\"batch\":[" + string.Join(',', Enumerable.Repeat(message, 26)) + "]}";
        Assert.Contains("500 KB", Batch(json).Error);
    }

    [Fact]
    public void A_message_over_32_KB_in_a_batch_is_rejected_by_its_index_and_one_just_under_is_accepted()
    {
        var filler = "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"a\",\"properties\":{\"p\":\"\"}}".Length;
        string Message(int bytes) => "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"a\",\"properties\":{\"p\":\"" + new string('x', bytes - filler) + "\"}}";
        var small = "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"a\"}";

        var over = Batch("{\"batch\":[" + small + ",\n  " + Message(SegmentNormalizer.MaxEventBytes + 1) + "\n]}");
        var under = Batch("{\"batch\":[" + small + ", " + Message(SegmentNormalizer.MaxEventBytes) + "]}");

        Assert.Equal($"batch[1]: the event is {SegmentNormalizer.MaxEventBytes + 1} bytes; the limit is {SegmentNormalizer.MaxEventBytes} bytes (32 KB).", over.Error);
        Assert.Null(under.Error);
        Assert.Equal(2, under.Events.Count);
    }

    [Fact]
    public void A_bad_message_in_a_batch_names_its_index_and_nothing_is_accepted()
    {
        var result = Batch("""{"batch":[{"type":"track","userId":"u","event":"a"},{"type":"track","userId":"u"}]}""");
        Assert.StartsWith("batch[1]:", result.Error);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void Batch_messages_need_a_known_type()
    {
        Assert.StartsWith("batch[0]: 'type' must be one of", Batch("""{"batch":[{"type":"order","userId":"u"}]}""").Error);
    }

    [Fact]
    public void An_empty_batch_is_rejected()
    {
        Assert.Equal("'batch' is empty.", Batch("""{"batch":[]}""").Error);
    }

    [Fact]
    public void Ga4_names_are_mapped_to_segment_ecommerce_names_with_their_parameters()
    {
        var result = Single("""{"anonymousId":"a","event":"purchase","properties":{"transaction_id":"T1","value":12.5,"currency":"EUR","items":[{"item_id":"SKU","item_name":"Shoe"}]}}""");
        var e = Assert.Single(result.Events);
        Assert.Equal("Order Completed", e.Name);
        var payload = JsonNode.Parse(e.Payload)!;
        Assert.Equal("purchase", payload["originalEvent"]!.GetValue<string>());
        Assert.Equal("T1", payload["properties"]!["order_id"]!.GetValue<string>());
        Assert.Equal(12.5m, payload["properties"]!["revenue"]!.GetValue<decimal>());
        Assert.Equal("SKU", payload["properties"]!["products"]![0]!["product_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("view_item", "Product Viewed")]
    [InlineData("view_product", "Product Viewed")]
    [InlineData("add_to_cart", "Product Added")]
    [InlineData("begin_checkout", "Checkout Started")]
    [InlineData("sign_up", "Signed Up")]
    [InlineData("generate_lead", "Lead Generated")]
    [InlineData("Product Viewed", "Product Viewed")]
    public void Event_names_are_normalised(string sent, string stored)
    {
        Assert.Equal(stored, Single($$"""{"anonymousId":"a","event":"{{sent}}"}""").Events[0].Name);
    }

    [Fact]
    public void Client_clock_skew_is_corrected_with_sent_at()
    {
        // The client's clock is 1 hour fast: it says the event happened 10 s before it was sent.
        var result = Single("""{"userId":"u","event":"x","timestamp":"2026-11-22T13:00:00Z","sentAt":"2026-11-22T13:00:10Z"}""");
        Assert.Equal(Now.AddSeconds(-10), result.Events[0].Timestamp);
    }

    [Fact]
    public void Without_sent_at_the_timestamp_is_taken_as_is()
    {
        var result = Single("""{"userId":"u","event":"x","timestamp":"2020-01-02T03:04:05Z"}""");
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), result.Events[0].Timestamp);
    }

    [Fact]
    public void Without_a_timestamp_the_receive_time_is_used()
    {
        Assert.Equal(Now, Single("""{"userId":"u","event":"x"}""").Events[0].Timestamp);
    }

    [Fact]
    public void A_missing_message_id_is_generated_and_the_write_key_is_not_stored()
    {
        var result = Single("""{"userId":"u","event":"x","writeKey":"secret"}""");
        Assert.Equal("secret", result.WriteKey);
        Assert.StartsWith("srv-", result.Events[0].MessageId);
        Assert.DoesNotContain("secret", result.Events[0].Payload);
    }

    [Fact]
    public void Alias_needs_user_id_and_previous_id()
    {
        Assert.Equal("alias requires both 'userId' and 'previousId'.", Single("""{"userId":"u"}""", "alias").Error);
        Assert.Null(Single("""{"userId":"u","previousId":"a"}""", "alias").Error);
    }

    [Fact]
    public void Group_needs_a_group_id()
    {
        Assert.Equal("'groupId' is required for group.", Single("""{"userId":"u"}""", "group").Error);
    }

    [Fact]
    public void Batch_context_is_merged_into_each_message_without_overwriting()
    {
        var result = Batch("""{"context":{"ip":"1.2.3.4","locale":"pl"},"batch":[{"type":"page","anonymousId":"a","context":{"locale":"en"}}]}""");
        var context = JsonNode.Parse(result.Events[0].Payload)!["context"]!;
        Assert.Equal("1.2.3.4", context["ip"]!.GetValue<string>());
        Assert.Equal("en", context["locale"]!.GetValue<string>());
    }

    [Fact]
    public void The_partition_is_stable_for_a_workspace_and_id()
    {
        var a = SegmentNormalizer.PartitionOf("ws", "user-1");
        Assert.Equal(a, SegmentNormalizer.PartitionOf("ws", "user-1"));
        Assert.InRange(a, 0, SegmentNormalizer.PartitionCount - 1);
        var spread = Enumerable.Range(0, 1000).Select(i => SegmentNormalizer.PartitionOf("ws", "u" + i)).Distinct().Count();
        Assert.Equal(SegmentNormalizer.PartitionCount, spread);
    }
}
