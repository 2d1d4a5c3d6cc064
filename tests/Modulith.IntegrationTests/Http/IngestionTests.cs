using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

public sealed class IngestionTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static string Id() => Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task An_accepted_event_answers_success_true()
    {
        using var response = await Host.SendAsync("/v1/track", $$$"""{"anonymousId":"{{{Id()}}}","event":"Product Viewed"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task Without_a_write_key_ingestion_answers_401_problem()
    {
        using var response = await Host.Client.PostAsync("/v1/track", new StringContent("""{"anonymousId":"a","event":"x"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_wrong_write_key_answers_401()
    {
        using var response = await Host.SendAsync("/v1/track", """{"anonymousId":"a","event":"x"}""", writeKey: "wk_nope");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_api_key_is_not_a_write_key()
    {
        using var response = await Host.SendAsync("/v1/track", """{"anonymousId":"a","event":"x"}""", writeKey: Host.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Browser_short_forms_accept_text_plain_with_the_write_key_in_the_body()
    {
        var anonymousId = Id();
        foreach (var (route, body) in new[]
        {
            ("/v1/p", $$$"""{"writeKey":"{{{Host.WriteKey}}}","anonymousId":"{{{anonymousId}}}","name":"Home"}"""),
            ("/v1/t", $$$"""{"writeKey":"{{{Host.WriteKey}}}","anonymousId":"{{{anonymousId}}}","event":"add_to_cart"}"""),
            ("/v1/i", $$$"""{"writeKey":"{{{Host.WriteKey}}}","anonymousId":"{{{anonymousId}}}","traits":{"plan":"gold"}}"""),
            ("/v1/s", $$$"""{"writeKey":"{{{Host.WriteKey}}}","anonymousId":"{{{anonymousId}}}","name":"Cart"}"""),
            ("/v1/g", $$$"""{"writeKey":"{{{Host.WriteKey}}}","anonymousId":"{{{anonymousId}}}","groupId":"acme"}"""),
            ("/v1/b", $$$"""{"writeKey":"{{{Host.WriteKey}}}","batch":[{"type":"track","anonymousId":"{{{anonymousId}}}","event":"Checkout Started"}]}"""),
        })
        {
            using var response = await Host.Client.PostAsync(route, new StringContent(body, Encoding.UTF8, "text/plain"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        await Host.DrainAsync();
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("anonymousId=" + anonymousId))!);
        var counts = profile.GetProperty("metrics").GetProperty("eventCounts");
        Assert.Equal(1, counts.GetProperty("Product Added").GetInt32());
        Assert.Equal(1, counts.GetProperty("Checkout Started").GetInt32());
        Assert.Equal("\"gold\"", profile.GetProperty("traits").GetProperty("plan").GetRawText());
        Assert.Equal(6, profile.GetProperty("metrics").GetProperty("events").GetInt32());
    }

    [Theory]
    [InlineData("/v1/track", """{"anonymousId":"a"}""", "'event' is required")]
    [InlineData("/v1/track", """{"event":"x"}""", "Either 'userId' or 'anonymousId' is required.")]
    [InlineData("/v1/identify", """{"userId":"u","traits":"gold"}""", "'traits' must be an object.")]
    [InlineData("/v1/track", """{"userId":"u","event":"x","timestamp":"last tuesday"}""", "'timestamp' must be an ISO 8601")]
    [InlineData("/v1/batch", """{"batch":[{"type":"track","userId":"u","event":"ok"},{"type":"nope","userId":"u"}]}""", "batch[1]:")]
    [InlineData("/v1/batch", """{"batch":{}}""", "'batch' must be an array")]
    [InlineData("/v1/alias", """{"userId":"u"}""", "alias requires both")]
    [InlineData("/v1/track", """{"userId":"u",""", "not valid JSON")]
    [InlineData("/v1/track", """{"userId":"u","event":"x","event":"y"}""", "names the same field more than once")]
    [InlineData("/v1/batch", """{"batch":[{"type":"track","userId":"u","event":"x"}],"context":{"ip":"1","ip":"2"}}""", "names the same field more than once")]
    public async Task Bad_input_gets_a_400_problem_with_a_clear_message(string route, string body, string message)
    {
        using var response = await Host.SendAsync(route, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(message, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_rejected_batch_stores_none_of_its_messages()
    {
        var anonymousId = Id();
        using var response = await Host.SendAsync("/v1/batch", $$$"""{"batch":[{"type":"track","anonymousId":"{{{anonymousId}}}","event":"ok"},{"type":"track","anonymousId":"{{{anonymousId}}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await Host.DrainAsync();
        Assert.Null(await Host.FindCustomerAsync("anonymousId=" + anonymousId));
    }

    [Fact]
    public async Task An_event_over_32_KB_and_a_batch_over_500_KB_get_400()
    {
        var big = new string('x', 33 * 1024);
        using var single = await Host.SendAsync("/v1/track", "{\"anonymousId\":\"a\",\"event\":\"x\",\"properties\":{\"p\":\"" + big + "\"}}");
        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        var message = "{\"type\":\"track\",\"anonymousId\":\"a\",\"event\":\"x\",\"properties\":{\"p\":\"" + new string('y', 20 * 1024) + "\"}}";
        using var batch = await Host.SendAsync("/v1/batch", "{\"batch\":[" + string.Join(',', Enumerable.Repeat(message, 30)) + "]}");
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains("500 KB", await batch.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_redelivered_message_id_is_counted_once()
    {
        var anonymousId = Id();
        var body = $$$"""{"batch":[{"type":"track","anonymousId":"{{{anonymousId}}}","event":"Product Viewed","messageId":"{{{anonymousId}}}-1"},{"type":"track","anonymousId":"{{{anonymousId}}}","event":"Product Viewed","messageId":"{{{anonymousId}}}-2"}]}""";
        await Host.SendOkAsync("/v1/batch", body);
        await Host.SendOkAsync("/v1/batch", body);
        await Host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{anonymousId}}}","event":"Product Viewed","messageId":"{{{anonymousId}}}-1"}""");
        await Host.DrainAsync();
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("anonymousId=" + anonymousId))!);
        Assert.Equal(2, profile.GetProperty("metrics").GetProperty("productViews").GetInt32());
    }
}
