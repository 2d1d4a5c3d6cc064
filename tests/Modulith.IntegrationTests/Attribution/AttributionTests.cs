using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Attribution;

/// <summary>Attribution and KPIs over scripted journeys, through the public API, checked against numbers computed by hand.</summary>
public sealed class AttributionTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private TestHost Host => fixture.Host;

    private static string Ts(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    private static JsonObject Visit(string user, DateTimeOffset at, string source, string medium, string campaign) => new()
    {
        ["type"] = "page", ["userId"] = user, ["name"] = "Home", ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        ["context"] = new JsonObject { ["page"] = new JsonObject { ["url"] = $"https://shop.example/?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}" } },
    };

    private static JsonObject Order(string user, string orderId, double revenue, DateTimeOffset at) => new()
    {
        ["type"] = "track", ["userId"] = user, ["event"] = "Order Completed", ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        ["properties"] = new JsonObject { ["order_id"] = orderId, ["revenue"] = revenue, ["currency"] = "PLN" },
    };

    /// <summary>
    /// A: paid search (brand) 5 days ago, email (newsletter) 3 days ago, orders 100 ten minutes later.
    /// B: paid search (brand) 4 days ago, orders 50 five minutes later. C: email (newsletter) 2 days ago, no order.
    /// </summary>
    private async Task<(HttpClient Admin, string Period)> ScriptAsync(string name)
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync(name + "-" + Guid.NewGuid().ToString("N")[..6]);
        var batch = new JsonArray(
            Visit("a", Now.AddDays(-5), "google", "cpc", "brand"),
            Visit("a", Now.AddDays(-3), "newsletter", "email", "newsletter-nov"),
            Order("a", name + "-1", 100, Now.AddDays(-3).AddMinutes(10)),
            Visit("b", Now.AddDays(-4), "google", "cpc", "brand"),
            Order("b", name + "-2", 50, Now.AddDays(-4).AddMinutes(5)),
            Visit("c", Now.AddDays(-2), "newsletter", "email", "newsletter-nov"));
        await Host.SendOkAsync("/v1/batch", new JsonObject { ["batch"] = batch }.ToJsonString(), writeKey);
        await Host.DrainAsync();
        return (admin, $"from={Uri.EscapeDataString(Ts(Now.AddDays(-10)))}&to={Uri.EscapeDataString(Ts(Now.AddDays(1)))}");
    }

    private static async Task<Dictionary<string, (double Conversions, double Revenue)>> CreditAsync(HttpClient admin, string query)
    {
        using var response = await admin.GetAsync("/api/attribution?" + query);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        var list = body.TryGetProperty("channels", out var channels) && channels.ValueKind == JsonValueKind.Array ? channels : body.GetProperty("campaigns");
        return list.EnumerateArray().ToDictionary(
            c => c.TryGetProperty("channel", out var channel) && channel.ValueKind == JsonValueKind.String ? channel.GetString()! : c.GetProperty("campaign").GetString()!,
            c => (c.GetProperty("conversions").GetDouble(), c.GetProperty("revenue").GetDouble()));
    }

    private static void Expect(Dictionary<string, (double Conversions, double Revenue)> credit, string key, double conversions, double revenue)
    {
        Assert.True(credit.ContainsKey(key), $"no credit for {key}: {string.Join(", ", credit.Keys)}");
        Assert.Equal(conversions, credit[key].Conversions, 3);
        Assert.Equal(revenue, credit[key].Revenue, 1);
    }

    [Fact]
    public async Task Every_model_returns_the_credit_computed_by_hand()
    {
        var (admin, period) = await ScriptAsync("attr-models");

        var first = await CreditAsync(admin, "model=first_touch&" + period);
        Expect(first, "paid_search", 2, 150);
        Assert.DoesNotContain("email", first.Keys);

        var last = await CreditAsync(admin, "model=last_touch&" + period);
        Expect(last, "email", 1, 100);
        Expect(last, "paid_search", 1, 50);
        Assert.Equal(last, await CreditAsync(admin, "model=last_non_direct&" + period));

        foreach (var model in new[] { "linear", "position_based", "shapley" })
        {
            // A's two touches share its order; B's single touch takes all of its own.
            var credit = await CreditAsync(admin, $"model={model}&" + period);
            Expect(credit, "paid_search", 1.5, 100);
            Expect(credit, "email", 0.5, 50);
        }

        // Ages at A's order: paid search 2 days + 10 min, email 10 min; weights 2^(-age / 7 days), normalised.
        var searchWeight = Math.Pow(2, -(2 + (10.0 / 1440)) / 7);
        var emailWeight = Math.Pow(2, -(10.0 / 1440) / 7);
        var searchShare = searchWeight / (searchWeight + emailWeight);
        var decay = await CreditAsync(admin, "model=time_decay&" + period);
        Expect(decay, "paid_search", 1 + searchShare, 50 + (100 * searchShare));
        Expect(decay, "email", 1 - searchShare, 100 * (1 - searchShare));

        // Paths: start->search->email->conv, start->search->conv, start->email->null (C).
        // P(conv) = 2/3; removing search leaves 1/6 (effect 3/4), removing email leaves 1/3 (effect 1/2); shares 0.6 / 0.4.
        var markov = await CreditAsync(admin, "model=markov&" + period);
        Expect(markov, "paid_search", 1.2, 90);
        Expect(markov, "email", 0.8, 60);

        var byCampaign = await CreditAsync(admin, "model=linear&by=campaign&" + period);
        Expect(byCampaign, "brand", 1.5, 100);
        Expect(byCampaign, "newsletter-nov", 0.5, 50);

        var models = await admin.GetFromJsonAsync<JsonElement>("/api/attribution/models?" + period);
        Assert.Equal(8, models.GetArrayLength());
        Assert.All(models.EnumerateArray(), m => Assert.Equal(2, m.GetProperty("totalConversions").GetInt32()));

        var csv = await admin.GetStringAsync("/api/attribution?model=markov&format=csv&" + period);
        Assert.Contains("markov,order,paid_search,1.2,90", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_queries_get_a_400()
    {
        var (admin, period) = await ScriptAsync("attr-bad");
        foreach (var query in new[] { "model=magic&" + period, period, "model=linear&from=yesterday", "model=linear&by=country&" + period, "model=linear&conversion=visit&" + period, "model=linear&from=2026-01-02&to=2026-01-01" })
        {
            using var response = await admin.GetAsync("/api/attribution?" + query);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode}");
        }

        using var settings = await admin.PutAsJsonAsync("/api/attribution/settings", new { positionFirst = 0.7, positionLast = 0.7 });
        Assert.Equal(HttpStatusCode.BadRequest, settings.StatusCode);
    }

    [Fact]
    public async Task Ad_spend_is_validated_whole_and_stored_from_json_and_csv()
    {
        var (admin, _) = await ScriptAsync("attr-spend");
        using (var bad = await admin.PostAsJsonAsync("/api/ad-spend", new object[]
        {
            new { channel = "paid_search", day = "2026-11-01", amount = 10, currency = "PLN" },
            new { channel = "Paid Search!", day = "01/11/2026", amount = -1, currency = "zł" },
        }))
        {
            var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, problem.ToString());
            Assert.StartsWith("entry 1:", problem.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.Empty(await admin.GetFromJsonAsync<JsonElement[]>("/api/ad-spend?from=2026-10-01&to=2026-12-01") ?? []);
        using (var ok = await admin.PostAsJsonAsync("/api/ad-spend", new { channel = "paid_search", campaign = "brand", day = "2026-11-01", amount = 10.5, currency = "pln" }))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var csv = await admin.PostAsync("/api/ad-spend", new StringContent("channel,campaign,day,amount,currency\npaid_search,brand,2026-11-01,12.25,PLN\nemail,,2026-11-02,3,PLN\n", Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        }

        using (var text = await admin.PostAsync("/api/ad-spend", new StringContent("hello", Encoding.UTF8, "text/plain")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        }

        var stored = await admin.GetFromJsonAsync<JsonElement>("/api/ad-spend?from=2026-10-01&to=2026-12-01");
        Assert.Equal(2, stored.GetArrayLength());
        Assert.Equal(12.25m, stored[0].GetProperty("amount").GetDecimal());
        Assert.Equal("PLN", stored[0].GetProperty("currency").GetString());
    }

    [Fact]
    public async Task The_kpis_over_a_scripted_history_match_the_hand_computed_values()
    {
        var (admin, period) = await ScriptAsync("attr-kpi");
        string Day(int offset) => Now.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        using (var spend = await admin.PostAsJsonAsync("/api/ad-spend", new object[]
        {
            new { channel = "paid_search", campaign = "brand", day = Day(-6), amount = 40, currency = "PLN" },
            new { channel = "paid_search", campaign = "brand", day = Day(-5), amount = 40, currency = "PLN" },
            new { channel = "paid_search", campaign = "brand", day = Day(-4), amount = 40, currency = "PLN" },
            new { channel = "email", campaign = "newsletter-nov", day = Day(-3), amount = 10, currency = "PLN" },
            new { channel = "paid_search", campaign = "brand", day = Day(-30), amount = 999, currency = "PLN" },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, spend.StatusCode);
        }

        var kpis = await admin.GetFromJsonAsync<JsonElement>("/api/kpis?" + period);
        Assert.Equal(130m, kpis.GetProperty("spend").GetDecimal());
        Assert.Equal("PLN", kpis.GetProperty("currency").GetString());
        Assert.Equal(2, kpis.GetProperty("newCustomers").GetInt32());
        Assert.Equal(150, kpis.GetProperty("revenue").GetDouble());

        // CAC: 130 / 2 blended; last non-direct gives A to email and B to paid search.
        var cac = kpis.GetProperty("cac");
        Assert.Equal(65, cac.GetProperty("blended").GetDouble());
        var cacRows = cac.GetProperty("channels").EnumerateArray().ToDictionary(c => c.GetProperty("channel").GetString()!, c => c.GetProperty("cac").GetDouble());
        Assert.Equal(120, cacRows["paid_search"]);
        Assert.Equal(10, cacRows["email"]);

        // CLV: fewer than 10 customers, so historical revenue: (100 + 50) / 2.
        Assert.Equal(75, kpis.GetProperty("clv").GetProperty("average").GetDouble());
        Assert.Equal("historical", kpis.GetProperty("clv").GetProperty("basis").GetString());

        var roas = kpis.GetProperty("roas").EnumerateArray().ToDictionary(r => r.GetProperty("model").GetString()!);
        Assert.Equal(8, roas.Count);
        double Roas(string model, string channel) => roas[model].GetProperty("channels").EnumerateArray().First(c => c.GetProperty("channel").GetString() == channel).GetProperty("roas").GetDouble();
        Assert.Equal(Math.Round(50.0 / 120, 4), Roas("last_touch", "paid_search"));
        Assert.Equal(10, Roas("last_touch", "email"));
        Assert.Equal(0.75, Roas("markov", "paid_search"));
        Assert.Equal(6, Roas("markov", "email"));
        Assert.Equal(Math.Round(150.0 / 130, 4), roas["markov"].GetProperty("total").GetDouble());

        // Conversion rate: paid search (google) touched A and B, both ordered after; email (newsletter) touched A and C, A ordered.
        var rates = kpis.GetProperty("conversionRates").EnumerateArray().ToDictionary(r => r.GetProperty("channel").GetString()!, r => r);
        Assert.Equal(2, rates["paid_search"].GetProperty("visitors").GetInt32());
        Assert.Equal(1.0, rates["paid_search"].GetProperty("rate").GetDouble());
        Assert.Equal("newsletter", rates["email"].GetProperty("source").GetString());
        Assert.Equal(0.5, rates["email"].GetProperty("rate").GetDouble());

        // Time to purchase: A 2 days + 10 minutes, B 5 minutes; median is their mean, p90 the larger.
        var time = kpis.GetProperty("timeToPurchase");
        var a = 2 + (10.0 / 1440);
        var b = 5.0 / 1440;
        Assert.Equal(2, time.GetProperty("customers").GetInt32());
        Assert.Equal((a + b) / 2, time.GetProperty("medianDays").GetDouble(), 3);
        Assert.Equal(a, time.GetProperty("p90Days").GetDouble(), 3);
        Assert.Equal(1, time.GetProperty("distribution").GetProperty("under_1_day").GetInt32());
        Assert.Equal(1, time.GetProperty("distribution").GetProperty("1_to_7_days").GetInt32());

        var filtered = await admin.GetFromJsonAsync<JsonElement>("/api/kpis?channel=email&" + period);
        Assert.Equal(10m, filtered.GetProperty("spend").GetDecimal());
        Assert.Single(filtered.GetProperty("conversionRates").EnumerateArray());
        var byCampaign = await admin.GetFromJsonAsync<JsonElement>("/api/kpis?campaign=brand&" + period);
        Assert.Equal(120m, byCampaign.GetProperty("spend").GetDecimal());
        // By campaign, last non-direct credits B's first order to brand (A's went to the newsletter): CAC 120 / 1.
        var brand = byCampaign.GetProperty("cac").GetProperty("channels").EnumerateArray().Single();
        Assert.Equal("brand", brand.GetProperty("campaign").GetString());
        Assert.Equal(JsonValueKind.Null, brand.GetProperty("channel").ValueKind);
        Assert.Equal(120, brand.GetProperty("cac").GetDouble());

        var csv = await admin.GetStringAsync("/api/kpis?format=csv&" + period);
        Assert.Contains("cac_blended,,65", csv, StringComparison.Ordinal);
        Assert.Contains("roas_markov,email,6", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sales_contact_earns_credit_beside_marketing()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("attr-sales-" + Guid.NewGuid().ToString("N")[..6]);
        await Host.SendOkAsync("/v1/batch", new JsonObject
        {
            ["batch"] = new JsonArray(
                Visit("d", Now.AddDays(-3), "google", "cpc", "brand"),
                new JsonObject { ["type"] = "identify", ["userId"] = "d", ["timestamp"] = Ts(Now.AddDays(-3).AddMinutes(1)), ["messageId"] = Guid.NewGuid().ToString(), ["traits"] = new JsonObject { ["email"] = "d@example.com" } }),
        }.ToJsonString(), writeKey);
        await Host.DrainAsync();
        var id = (await Host.FindCustomerAsync("userId=d", admin))!;
        using (var contact = await admin.PostAsJsonAsync($"/api/leads/{id}/contact", new { channel = "call", note = "intro call" }))
        {
            Assert.True(contact.IsSuccessStatusCode, await contact.Content.ReadAsStringAsync());
        }

        await Host.SendOkAsync("/v1/track", Order("d", "sales-1", 80, DateTimeOffset.UtcNow.AddSeconds(1)).ToJsonString(), writeKey);
        await Host.DrainAsync();
        var period = $"from={Uri.EscapeDataString(Ts(Now.AddDays(-10)))}&to={Uri.EscapeDataString(Ts(DateTimeOffset.UtcNow.AddDays(1)))}";
        // The order starts a new (direct) visit: last touch credits direct, last non-direct the sales call.
        Expect(await CreditAsync(admin, "model=last_touch&" + period), "direct", 1, 80);
        Expect(await CreditAsync(admin, "model=last_non_direct&" + period), "sales", 1, 80);
        var linear = await CreditAsync(admin, "model=linear&" + period);
        Expect(linear, "paid_search", 1.0 / 3, 80.0 / 3);
        Expect(linear, "sales", 1.0 / 3, 80.0 / 3);
        Expect(linear, "direct", 1.0 / 3, 80.0 / 3);
    }

    [Fact]
    public async Task Another_workspace_sees_none_of_it()
    {
        var (adminA, period) = await ScriptAsync("attr-iso-a");
        (await adminA.PostAsJsonAsync("/api/ad-spend", new { channel = "paid_search", day = Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), amount = 5, currency = "PLN" })).EnsureSuccessStatusCode();
        var (_, adminB, _) = await Host.CreateWorkspaceAsync("attr-iso-b-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Empty(await CreditAsync(adminB, "model=linear&" + period));
        var kpis = await adminB.GetFromJsonAsync<JsonElement>("/api/kpis?" + period);
        Assert.Equal(0m, kpis.GetProperty("spend").GetDecimal());
        Assert.Equal(0, kpis.GetProperty("newCustomers").GetInt32());
        Assert.Empty((await adminB.GetFromJsonAsync<JsonElement>("/api/ad-spend?" + period)).EnumerateArray());
    }
}
