using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>A custom scoring model through the API changes who qualifies; existing leads are rescored; the explanation names the rules.</summary>
public sealed class ScoringModelTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static readonly object EnterpriseModel = new
    {
        rules = new object[]
        {
            new { id = "enterprise", description = "Company of 100+ people", part = "fit", points = 40, profile = new { trait = "company_size", op = "gte", value = 100 } },
            new { id = "pricing", description = "Read the pricing page twice", part = "engagement", points = 10, cap = 30, events = new[] { "Page Viewed" }, where = new { name = "Pricing" }, minCount = 2, withinDays = 30 },
            new { id = "demo", description = "Asked for a demo", part = "engagement", points = 50, events = new[] { "Demo Requested" } },
            new { id = "unsubscribed", description = "Unsubscribed", part = "engagement", points = -25, events = new[] { "Unsubscribed" } },
        },
        engagementHalfLifeDays = 14,
        mql = new { allOf = new[] { "enterprise", "pricing" } },
        sql = new { anyOf = new[] { "demo" } },
    };

    [Fact]
    public async Task A_custom_model_changes_who_qualifies_rescoring_existing_leads_and_the_explanation_lists_the_rules_that_fired()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("model-" + Guid.NewGuid().ToString("N")[..6]);
        var big = await PricingReaderAsync(admin, writeKey, 500);
        Assert.Equal("Lead", (await LeadAsync(admin, big)).GetProperty("stage").GetString());

        using var put = await admin.PutAsJsonAsync("/api/scoring-model", EnterpriseModel);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(2, (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());

        var rescored = await WaitForLeadAsync(admin, big, l => l.GetProperty("stage").GetString() == "MQL", TimeSpan.FromSeconds(20), "The rescore");
        var progress = await admin.GetFromJsonAsync<JsonElement>("/api/scoring-model/rescore");
        Assert.Equal(2, progress.GetProperty("modelVersion").GetInt32());
        var score = rescored.GetProperty("score");
        Assert.Equal(2, score.GetProperty("modelVersion").GetInt32());
        var rules = score.GetProperty("rules").EnumerateArray().ToDictionary(r => r.GetProperty("ruleId").GetString()!);
        Assert.True(rules["enterprise"].GetProperty("satisfied").GetBoolean());
        Assert.Equal(40, rules["enterprise"].GetProperty("points").GetDouble());
        Assert.True(rules["pricing"].GetProperty("satisfied").GetBoolean());
        Assert.Equal(2, rules["pricing"].GetProperty("count").GetInt32());
        Assert.InRange(rules["pricing"].GetProperty("points").GetDouble(), 19.5, 20);
        Assert.False(rules["demo"].GetProperty("satisfied").GetBoolean());
        var reason = rescored.GetProperty("history").EnumerateArray().Last().GetProperty("reason").GetString();
        Assert.Contains("enterprise (40 points)", reason);
        Assert.Contains("pricing (", reason);

        var small = await PricingReaderAsync(admin, writeKey, 10);
        var lead = await LeadAsync(admin, small);
        Assert.Equal("Lead", lead.GetProperty("stage").GetString());
        Assert.False(lead.GetProperty("score").GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "enterprise").GetProperty("satisfied").GetBoolean());

        var history = await admin.GetFromJsonAsync<JsonElement>("/api/scoring-model/history");
        Assert.Equal(2, Assert.Single(history.EnumerateArray()).GetProperty("version").GetInt32());
        Assert.Equal("demo", (await admin.GetFromJsonAsync<JsonElement>("/api/scoring-model")).GetProperty("sql").GetProperty("anyOf")[0].GetString());
    }

    [Fact]
    public async Task An_invalid_model_gets_a_clear_400_and_the_stored_model_stays()
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("model-bad-" + Guid.NewGuid().ToString("N")[..6]);
        foreach (var (model, expected) in new (object Model, string Expected)[]
        {
            (new { rules = Array.Empty<object>(), mql = new { minScore = 1 }, sql = new { minScore = 2 } }, "at least one rule"),
            (new { rules = new[] { new { id = "a", part = "fit", points = 1, profile = new { identity = "email" } } }, mql = new { allOf = new[] { "b" } }, sql = new { minScore = 2 } }, "unknown rule(s): b"),
            (new { rules = new[] { new { id = "a", part = "vibes", points = 1, profile = new { identity = "email" } } }, mql = new { minScore = 1 }, sql = new { minScore = 2 } }, "'part' must be fit or engagement"),
            (new { rules = new[] { new { id = "a", part = "fit", points = 1, profile = new { trait = "x", op = "like", value = "y" } } }, mql = new { minScore = 1 }, sql = new { minScore = 2 } }, "a trait 'op' is one of"),
            (new { rules = new[] { new { id = "a", part = "fit", points = 1 } }, mql = new { minScore = 1 }, sql = new { minScore = 2 } }, "either 'events'"),
            (new { rules = new[] { new { id = "a", part = "fit", points = 1, profile = new { identity = "email" } } }, mql = new { minScore = 1 } }, "'sql' criteria are required"),
        })
        {
            using var response = await admin.PutAsJsonAsync("/api/scoring-model", model);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }

        Assert.Equal(1, (await admin.GetFromJsonAsync<JsonElement>("/api/scoring-model")).GetProperty("version").GetInt32());
    }

    private async Task<string> PricingReaderAsync(HttpClient admin, string writeKey, int companySize)
    {
        var visitor = "p-" + Guid.NewGuid().ToString("N")[..10];
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        JsonObject Pricing(DateTimeOffset at) => new()
        {
            ["type"] = "page", ["anonymousId"] = visitor, ["name"] = "Pricing", ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        };
        await SendAsync(Host, writeKey, Pricing(t0), Pricing(t0.AddSeconds(30)),
            Identify(visitor, t0.AddSeconds(40), visitor + "@corp.example", new JsonObject { ["company_size"] = companySize }));
        await Host.DrainAsync();
        return (await Host.FindCustomerAsync("anonymousId=" + visitor, admin))!;
    }
}
