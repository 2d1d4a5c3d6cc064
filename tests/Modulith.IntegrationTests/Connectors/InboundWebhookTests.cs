using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

public sealed class InboundWebhookTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>
{
    private const string Secret = "platform-secret";

    private TestHost Host => fixture.Host;

    [Fact]
    public async Task A_signed_webhook_is_stored_and_applied_and_a_redelivery_counts_once()
    {
        var instance = await CreateInstanceAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var body = $$$"""{"deliveryId":"d-{{{run}}}","orders":[{"id":"o-{{{run}}}","customerId":"{{{run}}}","email":"Buyer-{{{run}}}@Example.com","total":42.5,"currency":"EUR"}]}""";
        using (var first = await PostAsync(instance, body, Sign(body)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(2, (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt32());
        }

        using (var again = await PostAsync(instance, body, Sign(body)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        await Host.DrainAsync();
        var customer = await Host.FindCustomerAsync($"email=buyer-{run}@example.com");
        Assert.NotNull(customer);
        Assert.Equal(customer, await Host.FindCustomerAsync($"anonymousId=test-platform:{run}"));
        var profile = await Host.ProfileAsync(customer!);
        Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.Equal(42.5m, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
        Assert.True(profile.GetProperty("consents").GetProperty("marketing_email").GetProperty("granted").GetBoolean());
    }

    [Fact]
    public async Task A_wrong_signature_gets_401_and_stores_nothing()
    {
        var instance = await CreateInstanceAsync();
        var run = Guid.NewGuid().ToString("N")[..8];
        var body = $$$"""{"deliveryId":"d-{{{run}}}","orders":[{"id":"o-{{{run}}}","customerId":"{{{run}}}","email":"forged-{{{run}}}@example.com","total":1,"currency":"EUR"}]}""";
        using var response = await PostAsync(instance, body, Sign(body + " "));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await Host.DrainAsync();
        Assert.Null(await Host.FindCustomerAsync($"email=forged-{run}@example.com"));
    }

    [Fact]
    public async Task A_ping_is_acknowledged_and_an_unknown_instance_is_404()
    {
        var instance = await CreateInstanceAsync();
        using var ping = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent("webhook_id=7", Encoding.UTF8, "application/x-www-form-urlencoded") };
        ping.Headers.Add("X-Test-Signature", Sign("webhook_id=7"));
        ping.Headers.Add("X-Test-Ping", "1");
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.SendAsync(ping)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client.PostAsync("/webhooks/ci_00000000000000000000", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client.PostAsync("/webhooks/not-an-id", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task A_connector_that_hangs_is_cut_off_with_503_and_retry_after()
    {
        var instance = await CreateInstanceAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Test-Sleep", "1");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await Host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    private async Task<string> CreateInstanceAsync()
    {
        using var created = await Host.Admin().PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "test-platform",
            name = "shop",
            settings = new Dictionary<string, string> { ["secret"] = Secret },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private Task<HttpResponseMessage> PostAsync(string instance, string body, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Test-Signature", signature);
        return Host.Client.SendAsync(request);
    }

    private static string Sign(string body) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body)));
}
