using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>The Shopify plugin with the real payloads in shared/fixtures/shopify, signed like Shopify signs them.</summary>
public sealed class ShopifyConnectorTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>
{
    private const string ClientSecret = "shpss_test_client_secret";

    private TestHost Host => fixture.Host;

    private static string Fixture(string name, string wrapper, int? index = null)
    {
        var path = Path.Combine(PluginHostFixture.RepositoryRoot(), "..", "shared", "fixtures", "shopify", name);
        var node = JsonNode.Parse(File.ReadAllText(path))![wrapper]!;
        // A webhook body is the resource without its wrapper.
        return (index is { } i ? node[i]! : node).ToJsonString();
    }

    [Fact]
    public async Task An_orders_create_webhook_gives_the_expected_profile_order_consent_and_visit()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        using var response = await PostAsync(instance, "orders/create", Fixture("order.json", "order"), "evt-1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Host.DrainAsync();

        var id = await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin);
        Assert.NotNull(id);
        Assert.Equal(id, await Host.FindCustomerAsync("anonymousId=shopify:207119551", admin));
        var profile = await Host.ProfileAsync(id!, admin);
        var orders = profile.GetProperty("orders");
        Assert.Equal(1, orders.GetProperty("count").GetInt32());
        Assert.Equal(409.94m, orders.GetProperty("revenue").GetDecimal());
        Assert.Equal("USD", orders.GetProperty("currency").GetString());
        Assert.Equal(new DateTimeOffset(2008, 1, 10, 16, 0, 0, TimeSpan.Zero), orders.GetProperty("firstOrderAt").GetDateTimeOffset());
        Assert.False(profile.GetProperty("consents").GetProperty("marketing_email").GetProperty("granted").GetBoolean());
        Assert.Equal("\"Bob\"", profile.GetProperty("traits").GetProperty("firstName").GetRawText());
        var touch = profile.GetProperty("touchpoints")[0];
        Assert.Equal("referral", touch.GetProperty("channel").GetString());
        Assert.Equal("http://www.example.com?source=abc", touch.GetProperty("landingPage").GetString());
    }

    [Fact]
    public async Task A_wrong_signature_gets_401_and_changes_nothing()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        var body = Fixture("order.json", "order");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Shopify-Topic", "orders/create");
        request.Headers.Add("X-Shopify-Hmac-Sha256", Sign("another secret", body));
        using var response = await Host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await Host.DrainAsync();
        Assert.Null(await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin));
    }

    [Fact]
    public async Task A_redelivery_with_the_same_event_id_is_counted_once()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        var body = Fixture("order.json", "order");
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var response = await PostAsync(instance, "orders/create", body, "evt-same");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Host.DrainAsync();
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin))!, admin);
        Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.Equal(409.94m, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
    }

    [Fact]
    public async Task Customers_checkouts_and_carts_from_the_fixtures_are_accepted()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        foreach (var (topic, body) in new[]
        {
            ("customers/create", Fixture("customer.json", "customer")),
            ("checkouts/create", Fixture("checkouts.json", "checkouts", 0)),
            ("carts/update", Fixture("carts.json", "carts", 0)),
            ("refunds/create", Fixture("refund.json", "refund")),
            ("orders/paid", Fixture("order.json", "order")),
        })
        {
            using var response = await PostAsync(instance, topic, body, "evt-" + topic);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{topic}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        await Host.DrainAsync();
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin))!, admin);
        Assert.Equal("\"Norman\"", profile.GetProperty("traits").GetProperty("lastName").GetRawText());
        var counts = profile.GetProperty("metrics").GetProperty("eventCounts");
        Assert.Equal(1, counts.GetProperty("Checkout Started").GetInt32());
        Assert.Equal(1, counts.GetProperty("Order Paid").GetInt32());
    }

    [Fact]
    public async Task The_published_hmac_vector_verifies_and_privacy_webhooks_are_acknowledged()
    {
        var (_, instance) = await NewShopAsync("test_secret_key");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent("{\"foo\": \"bar\"}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Shopify-Topic", "shop/redact");
        request.Headers.Add("X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=");
        using var response = await Host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt32());
    }

    [Fact]
    public async Task A_refund_lands_on_the_profile_of_the_customer_who_placed_the_order()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(instance, "orders/create", Fixture("order.json", "order"), "evt-order")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(instance, "refunds/create", Fixture("refund.json", "refund"), "evt-refund")).StatusCode);
        await Host.DrainAsync();

        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin))!, admin);
        Assert.Equal(209.00m, profile.GetProperty("orders").GetProperty("refunded").GetDecimal());
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("eventCounts").GetProperty("Order Refunded").GetInt32());
        Assert.Null(await Host.FindCustomerAsync("anonymousId=order:450789469", admin));
    }

    [Fact]
    public async Task A_customers_redact_webhook_erases_the_customers_data_and_a_data_request_is_recorded()
    {
        var (admin, instance) = await NewShopAsync(ClientSecret);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(instance, "orders/create", Fixture("order.json", "order"), "evt-order")).StatusCode);
        await Host.DrainAsync();
        var id = (await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin))!;

        var dataRequest = """{"shop_id":954889,"shop_domain":"demo.myshopify.com","orders_requested":[450789469],"customer":{"id":207119551,"email":"bob.norman@hostmail.com","phone":null},"data_request":{"id":9999}}""";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(instance, "customers/data_request", dataRequest, "evt-data")).StatusCode);
        await Host.DrainAsync();
        var profile = await Host.ProfileAsync(id, admin);
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("eventCounts").GetProperty("Personal Data Requested").GetInt32());

        var redact = """{"shop_id":954889,"shop_domain":"demo.myshopify.com","customer":{"id":207119551,"email":"bob.norman@hostmail.com","phone":null},"orders_to_redact":[450789469]}""";
        using var response = await PostAsync(instance, "customers/redact", redact, "evt-redact");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt32());

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/customers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/customers/{id}/timeline")).StatusCode);
        Assert.Null(await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin));
        Assert.Null(await Host.FindCustomerAsync("anonymousId=shopify:207119551", admin));
        var search = await admin.GetFromJsonAsync<JsonElement>("/api/customers?q=norman");
        Assert.Empty(search.GetProperty("items").EnumerateArray());

        // A refund of the erased customer's order is no longer attributed through the erased order index.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(instance, "refunds/create", Fixture("refund.json", "refund"), "evt-refund-after")).StatusCode);
        await Host.DrainAsync();
        Assert.Null(await Host.FindCustomerAsync("email=bob.norman@hostmail.com", admin));
        Assert.NotNull(await Host.FindCustomerAsync("anonymousId=order:450789469", admin));
    }

    private async Task<(HttpClient Admin, string Instance)> NewShopAsync(string secret)
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("Shopify shop");
        using var created = await admin.PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "shopify",
            name = "demo.myshopify.com",
            settings = new Dictionary<string, string> { ["shopDomain"] = "demo.myshopify.com", ["clientSecret"] = secret },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (admin, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
    }

    private Task<HttpResponseMessage> PostAsync(string instance, string topic, string body, string eventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", "demo.myshopify.com");
        request.Headers.Add("X-Shopify-Event-Id", eventId);
        request.Headers.Add("X-Shopify-Hmac-Sha256", Sign(ClientSecret, body));
        return Host.Client.SendAsync(request);
    }

    private static string Sign(string secret, string body) => Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
}
