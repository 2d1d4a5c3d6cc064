using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>An anonymous visitor has no lead grain; what it did before signing up comes back from the event log.</summary>
public sealed class LeadVisitorTests
{
    [Fact]
    public async Task A_visitor_without_email_or_phone_has_no_lead_grain_and_their_earlier_events_count_when_they_sign_up()
    {
        await using var host = TestHost.StartSqlite(settings: TestHost.KeySettings("visitor-grain"));
        var admin = host.Admin();
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..8];
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        await SendAsync(host, host.WriteKey, Browsing(visitor, t0));
        await host.DrainAsync();
        var customerId = (await host.FindCustomerAsync("anonymousId=" + visitor, admin))!;
        Assert.NotNull(customerId);
        Assert.Equal(0, await LeadActivationsAsync(host, customerId));

        // As if the drain that applied them were still under way in another partition: applied to the profile, but not
        // yet attributed to it in the log. The lead still finds them, by the profile's recent sequences.
        Assert.Equal(4, Unattribute(host.DataDirectory, visitor));

        await SendAsync(host, host.WriteKey,
            Identify(visitor, t0.AddSeconds(100), $"{visitor}@example.com"),
            Track(visitor, "Newsletter Subscribed", t0.AddSeconds(150), null));
        await host.DrainAsync();

        Assert.Equal(1, await LeadActivationsAsync(host, customerId));
        var lead = await LeadAsync(admin, customerId);
        Assert.Equal("MQL", lead.GetProperty("stage").GetString());
        var productViews = lead.GetProperty("score").GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "product_views");
        Assert.True(productViews.GetProperty("satisfied").GetBoolean(), productViews.ToString());
    }

    [Fact]
    public async Task A_visitors_lead_state_is_not_stored_and_their_earlier_events_still_count_when_they_sign_up_after_a_restart()
    {
        var data = Scratch.NewDirectory("visitor");
        var settings = TestHost.KeySettings("visitor");
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..8];
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        string customerId;
        await using (var host = TestHost.StartSqlite(data, settings))
        {
            var admin = host.Admin();
            await SendAsync(host, host.WriteKey, Browsing(visitor, t0));
            await host.DrainAsync();
            customerId = (await host.FindCustomerAsync("anonymousId=" + visitor, admin))!;
            Assert.NotNull(customerId);
            using var notALead = await admin.GetAsync($"/api/leads/{customerId}");
            Assert.Equal(HttpStatusCode.NotFound, notALead.StatusCode);
        }

        Assert.Equal(0, StoredLeadStates(data));

        await using (var restarted = TestHost.StartSqlite(data, settings))
        {
            var admin = restarted.Admin();
            await SendAsync(restarted, restarted.WriteKey,
                Identify(visitor, t0.AddSeconds(100), $"{visitor}@example.com"),
                Track(visitor, "Newsletter Subscribed", t0.AddSeconds(150), null));
            await restarted.DrainAsync();

            var lead = await LeadAsync(admin, customerId);
            Assert.Equal("MQL", lead.GetProperty("stage").GetString());
            var productViews = lead.GetProperty("score").GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "product_views");
            Assert.True(productViews.GetProperty("satisfied").GetBoolean(), productViews.ToString());
            Assert.Equal("spring", lead.GetProperty("source").GetProperty("campaign").GetString());
        }

        Assert.Equal(1, StoredLeadStates(data));
    }

    /// <summary>A visit from the spring newsletter with three product views, anonymous.</summary>
    private static JsonObject[] Browsing(string visitor, DateTimeOffset t0) =>
    [
        Page(visitor, t0, "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"),
        Track(visitor, "Product Viewed", t0.AddSeconds(20), new JsonObject { ["product_id"] = "p1" }),
        Track(visitor, "Product Viewed", t0.AddSeconds(40), new JsonObject { ["product_id"] = "p2" }),
        Track(visitor, "Product Viewed", t0.AddSeconds(60), new JsonObject { ["product_id"] = "p3" }),
    ];

    private static async Task<int> LeadActivationsAsync(TestHost host, string customerId)
    {
        var statistics = await host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return statistics.Count(s => s.GrainId.Type.ToString() == "lead" && s.GrainId.Key.ToString()!.EndsWith("/" + customerId, StringComparison.Ordinal));
    }

    private static int Unattribute(string dataDirectory, string anonymousId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")};Pooling=False;Default Timeout=30");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM event_customers WHERE seq IN (SELECT seq FROM events WHERE anonymous_id = $anonymousId)";
        command.Parameters.AddWithValue("$anonymousId", anonymousId);
        return command.ExecuteNonQuery();
    }

    private static long StoredLeadStates(string dataDirectory)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM OrleansStorage WHERE GrainTypeString = 'lead'";
        return (long)command.ExecuteScalar()!;
    }
}
