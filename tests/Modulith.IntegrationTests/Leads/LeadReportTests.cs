using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>The lead reports over a scripted history, against numbers computed by hand.</summary>
public sealed class LeadReportTests
{
    private const string Summer = "https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=summer";

    [Fact]
    public async Task Lead_quality_sla_attainment_and_the_mql_commitment_match_a_hand_computed_history()
    {
        await using var host = TestHost.StartSqlite();
        var admin = host.Admin();
        var writeKey = host.WriteKey;
        await CreateRepAsync(admin, new { id = "bob", name = "Bob", team = "north" });
        await CreateRepAsync(admin, new { id = "cyd", name = "Cyd", team = "south" });
        await PutAsync(admin, "/api/sla-policies", new
        {
            calendars = Array.Empty<object>(),
            policies = new[] { new { id = "sql", stage = "SQL", within = "PT2S", assignment = new { strategy = "round_robin" } } },
            marketingCommitment = new { mqlPerMonth = 30 },
        });
        var from = DateTimeOffset.UtcNow.AddHours(-1);

        // L1 (black-friday): SQL -> bob, contacted at once, accepted, then orders: a customer, SLA met.
        var v1 = "r1-" + Guid.NewGuid().ToString("N")[..6];
        var l1 = await QualifyAsMqlAsync(host, admin, writeKey, v1);
        await AddToCartAsync(host, writeKey, v1);
        Assert.Equal("bob", (await LeadAsync(admin, l1)).GetProperty("ownerId").GetString());
        await PostOkAsync(admin, $"/api/leads/{l1}/contact", new { channel = "call" });
        await PostOkAsync(admin, $"/api/leads/{l1}/accept", new { });
        await SendAsync(host, writeKey, Track(v1, "Order Completed", DateTimeOffset.UtcNow, new JsonObject { ["order_id"] = "o-" + l1, ["revenue"] = 120 }));
        await host.DrainAsync();
        Assert.Equal("Customer", (await LeadAsync(admin, l1)).GetProperty("stage").GetString());

        // L2 (black-friday): SQL -> cyd, never contacted: breached, then rejected as not ready to buy.
        var v2 = "r2-" + Guid.NewGuid().ToString("N")[..6];
        var l2 = await QualifyAsMqlAsync(host, admin, writeKey, v2);
        await AddToCartAsync(host, writeKey, v2);
        await WaitForLeadAsync(admin, l2, l => l.GetProperty("sla").GetProperty("breached").GetBoolean(), TimeSpan.FromSeconds(15), "L2's breach");
        await PostOkAsync(admin, $"/api/leads/{l2}/reject", new { reason = "not_ready_to_buy" });

        // L3 (summer): stays an MQL.
        await QualifyAsMqlAsync(host, admin, writeKey, "r3-" + Guid.NewGuid().ToString("N")[..6], landing: Summer);

        // L4 (summer): SQL -> bob, contacted after the breach, rejected as poor quality.
        var v4 = "r4-" + Guid.NewGuid().ToString("N")[..6];
        var l4 = await QualifyAsMqlAsync(host, admin, writeKey, v4, landing: Summer);
        await AddToCartAsync(host, writeKey, v4);
        Assert.Equal("bob", (await LeadAsync(admin, l4)).GetProperty("ownerId").GetString());
        await WaitForLeadAsync(admin, l4, l => l.GetProperty("sla").GetProperty("breached").GetBoolean(), TimeSpan.FromSeconds(15), "L4's breach");
        await PostOkAsync(admin, $"/api/leads/{l4}/contact", new { channel = "email" });
        await PostOkAsync(admin, $"/api/leads/{l4}/reject", new { reason = "poor_quality" });
        var to = DateTimeOffset.UtcNow.AddHours(1);
        var period = $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";

        var quality = (await admin.GetFromJsonAsync<JsonElement>("/api/reports/leads/quality?" + period)).EnumerateArray().ToDictionary(r => r.GetProperty("campaign").GetString()!);
        var bf = quality["black-friday"];
        Assert.Equal(("email", "newsletter"), (bf.GetProperty("channel").GetString(), bf.GetProperty("source").GetString()));
        Assert.Equal([2, 2, 2, 1, 1, 1], Counts(bf));
        Assert.Equal(1.0, bf.GetProperty("mqlToSqlRate").GetDouble());
        Assert.Equal(0.5, bf.GetProperty("sqlToAcceptedRate").GetDouble());
        Assert.Equal(1.0, bf.GetProperty("acceptedToCustomerRate").GetDouble());
        Assert.Equal(1, bf.GetProperty("rejectionReasons").GetProperty("not_ready_to_buy").GetInt32());
        var summer = quality["summer"];
        Assert.Equal(("paid_search", "google"), (summer.GetProperty("channel").GetString(), summer.GetProperty("source").GetString()));
        Assert.Equal([2, 2, 1, 0, 1, 0], Counts(summer));
        Assert.Equal(0.5, summer.GetProperty("mqlToSqlRate").GetDouble());
        Assert.Equal(0.0, summer.GetProperty("sqlToAcceptedRate").GetDouble());
        Assert.Equal(JsonValueKind.Null, summer.GetProperty("acceptedToCustomerRate").ValueKind);
        Assert.Equal(1, summer.GetProperty("rejectionReasons").GetProperty("poor_quality").GetInt32());

        var csv = await admin.GetStringAsync("/api/reports/leads/quality?format=csv&" + period);
        Assert.StartsWith("channel,source,campaign,leads,mqls,sqls,accepted,rejected,customers,mql_to_sql,sql_to_accepted,accepted_to_customer,rejection_reasons\r\n", csv);
        Assert.Contains("email,newsletter,black-friday,2,2,2,1,1,1,1,0.5,1,not_ready_to_buy=1\r\n", csv);
        Assert.Contains("paid_search,google,summer,2,2,1,0,1,0,0.5,0,,poor_quality=1\r\n", csv);

        var sla = await admin.GetFromJsonAsync<JsonElement>("/api/reports/leads/sla?" + period);
        var reps = sla.GetProperty("reps").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!);
        Assert.Equal([2, 1, 1, 0], SlaCounts(reps["bob"]));
        Assert.Equal(0.5, reps["bob"].GetProperty("attainment").GetDouble());
        Assert.Equal([1, 0, 1, 0], SlaCounts(reps["cyd"]));
        Assert.Equal(0.0, reps["cyd"].GetProperty("attainment").GetDouble());
        var bobSpeed = reps["bob"].GetProperty("medianSecondsToContact").GetDouble();
        Assert.InRange(bobSpeed, 1.0, 6.0); // the mean of a contact at once and one after the 2 s breach
        Assert.True(reps["bob"].GetProperty("p90SecondsToContact").GetDouble() >= 2.0);
        Assert.Equal(JsonValueKind.Null, reps["cyd"].GetProperty("medianSecondsToContact").ValueKind);
        var teams = sla.GetProperty("teams").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!);
        Assert.Equal(0.5, teams["north"].GetProperty("attainment").GetDouble());
        Assert.Equal(0.0, teams["south"].GetProperty("attainment").GetDouble());

        var month = new DateTimeOffset(DateTimeOffset.UtcNow.Year, DateTimeOffset.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var commitment = await admin.GetFromJsonAsync<JsonElement>($"/api/reports/leads/mql-commitment?from={month:yyyy-MM-dd}&to={month.AddMonths(1):yyyy-MM-dd}");
        Assert.Equal(4, commitment.GetProperty("mqls").GetInt32());
        Assert.Equal(30, commitment.GetProperty("committed").GetDouble());
        Assert.Equal(0.1333, commitment.GetProperty("attainment").GetDouble());
        Assert.Equal(1, commitment.GetProperty("acceptedOfMqls").GetInt32());

        using var bad = await admin.GetAsync("/api/reports/leads/quality?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var reversed = await admin.GetAsync($"/api/reports/leads/sla?from={to:yyyy-MM-dd}&to={from:yyyy-MM-dd}");
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
    }

    private static int[] Counts(JsonElement row) =>
        [.. new[] { "leads", "mqls", "sqls", "accepted", "rejected", "customers" }.Select(p => row.GetProperty(p).GetInt32())];

    private static int[] SlaCounts(JsonElement row) =>
        [.. new[] { "clocks", "met", "breached", "open" }.Select(p => row.GetProperty(p).GetInt32())];

    private static async Task PostOkAsync(HttpClient admin, string route, object body)
    {
        using var response = await admin.PostAsJsonAsync(route, body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
