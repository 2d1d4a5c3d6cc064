using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>The WooCommerce plugin: signed webhooks, the unsigned ping, and reconciliation against a local server that answers like REST API v3.</summary>
public sealed class WooCommerceConnectorTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>, IAsyncLifetime
{
    private const string WebhookSecret = "wc-webhook-secret";
    private readonly List<string> _orders = [];
    private readonly List<string> _queries = [];
    private readonly int _port = TestHost.FreePort();
    private WebApplication _store = null!;

    private TestHost Host => fixture.Host;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        _store = builder.Build();
        _store.MapGet("/wp-json/wc/v3/orders", (HttpContext context) =>
        {
            if (context.Request.Headers.Authorization.ToString() != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ck_test:cs_test")))
            {
                return Results.StatusCode(401);
            }

            lock (_queries)
            {
                _queries.Add(context.Request.QueryString.Value ?? string.Empty);
            }

            var after = context.Request.Query["modified_after"].ToString();
            var matching = _orders.Select(o => JsonDocument.Parse(o).RootElement)
                .Where(o => after.Length == 0 || string.CompareOrdinal(o.GetProperty("date_modified_gmt").GetString(), after) > 0)
                .OrderBy(o => o.GetProperty("date_modified_gmt").GetString(), StringComparer.Ordinal)
                .Select(o => o.GetRawText());
            return Results.Content("[" + string.Join(',', matching) + "]", "application/json");
        });
        await _store.StartAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task A_signed_order_webhook_makes_a_profile_with_the_order_and_the_ping_and_forgeries_are_handled()
    {
        var (admin, instance) = await NewStoreAsync();
        var body = Order(501, "wc.buyer@example.com", "49.90", "processing", "2026-11-20T10:00:00");
        using (var response = await PostAsync(instance, "order.created", body, Sign(body)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var ping = await Host.Client.PostAsync($"/webhooks/{instance}", new StringContent("webhook_id=12", Encoding.UTF8, "application/x-www-form-urlencoded")))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        using (var forged = await PostAsync(instance, "order.created", Order(502, "forged@example.com", "1.00", "processing", "2026-11-20T10:00:00"), Sign("other")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        await Host.DrainAsync();
        Assert.Null(await Host.FindCustomerAsync("email=forged@example.com", admin));
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("email=wc.buyer@example.com", admin))!, admin);
        Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.Equal(49.90m, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("eventCounts").GetProperty("Order Paid").GetInt32());
    }

    [Fact]
    public async Task Reconciliation_reads_orders_modified_after_the_stored_cursor_and_misses_none()
    {
        var (admin, instance) = await NewStoreAsync();
        lock (_orders)
        {
            _orders.Add(Order(601, "poll.one@example.com", "10.00", "pending", "2026-11-21T08:00:00"));
            _orders.Add(Order(602, "poll.two@example.com", "20.00", "completed", "2026-11-21T09:00:00"));
        }

        var first = await ReconcileAsync(admin, instance);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);
        Assert.Equal("2026-11-21T09:00:00", first.GetProperty("cursor").GetString());

        lock (_orders)
        {
            _orders.Add(Order(603, "poll.three@example.com", "30.00", "processing", "2026-11-21T10:00:00"));
        }

        var second = await ReconcileAsync(admin, instance);
        Assert.Equal("2026-11-21T10:00:00", second.GetProperty("cursor").GetString());
        Assert.Contains(_queries, q => q.Contains("modified_after=2026-11-21T09%3A00%3A00", StringComparison.Ordinal));
        var again = await ReconcileAsync(admin, instance);
        Assert.Equal(0, again.GetProperty("events").GetInt32());

        await Host.DrainAsync();
        foreach (var (email, revenue) in new[] { ("poll.one@example.com", 10m), ("poll.two@example.com", 20m), ("poll.three@example.com", 30m) })
        {
            var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("email=" + email, admin))!, admin);
            Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
            Assert.Equal(revenue, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
        }
    }

    private async Task<JsonElement> ReconcileAsync(HttpClient admin, string instance)
    {
        using var response = await admin.PostAsync($"/api/connector-instances/{instance}/reconcile", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<(HttpClient Admin, string Instance)> NewStoreAsync()
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("Woo store");
        using var created = await admin.PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "woocommerce",
            name = "woo",
            settings = new Dictionary<string, string>
            {
                ["storeUrl"] = $"http://127.0.0.1:{_port}",
                ["consumerKey"] = "ck_test",
                ["consumerSecret"] = "cs_test",
                ["webhookSecret"] = WebhookSecret,
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (admin, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
    }

    private Task<HttpResponseMessage> PostAsync(string instance, string topic, string body, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-WC-Webhook-Topic", topic);
        request.Headers.Add("X-WC-Webhook-Source", "http://store.example/");
        request.Headers.Add("X-WC-Webhook-Delivery-ID", Guid.NewGuid().ToString("N"));
        request.Headers.Add("X-WC-Webhook-Signature", signature);
        return Host.Client.SendAsync(request);
    }

    private static string Sign(string body) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(body)));

    /// <summary>An order as WooCommerce's REST API v3 represents it (the fields the connector reads).</summary>
    private static string Order(int id, string email, string total, string status, string modifiedGmt) => $$$"""
        {"id":{{{id}}},"status":"{{{status}}}","currency":"PLN","total":"{{{total}}}","total_tax":"0.00","shipping_total":"0.00","discount_total":"0.00",
         "customer_id":{{{id + 1000}}},"order_key":"wc_order_{{{id}}}","date_created_gmt":"{{{modifiedGmt}}}","date_modified_gmt":"{{{modifiedGmt}}}","date_paid_gmt":null,
         "billing":{"first_name":"Ann","last_name":"Buyer","email":"{{{email}}}","phone":"","city":"Kraków","country":"PL"},
         "line_items":[{"product_id":93,"name":"Woo Album","quantity":1,"price":{{{total}}},"sku":"WA-1"}]}
        """;
}
