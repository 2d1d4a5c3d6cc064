using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Modulith.IntegrationTests.Connectors;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>Leads in cluster mode: scoring, assignment and the SLA clock on PostgreSQL, with the timers surviving the loss of a silo.</summary>
public sealed class LeadsOnPostgresTests
{
    [Fact]
    public async Task A_lead_qualified_on_one_silo_is_read_on_the_other_and_its_sla_fires_after_the_first_silo_is_gone()
    {
        var (receiver, port, notices) = await StartLeadEventReceiverAsync();
        await using var _ = receiver;

        var database = await Postgres.CreateDatabaseAsync();
        var settings = TestHost.KeySettingsWithChannels("pg_leads");
        var first = TestHost.StartPostgres(database, "pg-leads", settings);
        await using var second = TestHost.StartPostgres(database, "pg-leads", settings);
        string leadId;
        DateTimeOffset dueAt;
        try
        {
            var admin = first.Admin();
            await CreateRepAsync(admin, new { id = "bob", name = "Bob", email = "bob@shop.example" });
            var webhookId = await ConnectorInstances.CreateWebhookAsync(admin, $"http://127.0.0.1:{port}/lead-events", RandomNumberGenerator.GetBytes(32), "sales-events");
            await PutAsync(admin, "/api/sla-policies", new
            {
                calendars = Array.Empty<object>(),
                policies = new[] { new { id = "sql-fast", stage = "SQL", within = "PT8S", reminders = new[] { 0.5 }, assignment = new { strategy = "round_robin" } } },
                notifications = new { webhookInstanceId = webhookId },
            });

            var visitor = "pg-lead-" + Guid.NewGuid().ToString("N")[..8];
            leadId = await QualifyAsMqlAsync(first, admin, first.WriteKey, visitor);
            await AddToCartAsync(first, first.WriteKey, visitor);

            var seenThroughSecond = await WaitForLeadAsync(second.Admin(), leadId, l => l.GetProperty("stage").GetString() == "SQL", TimeSpan.FromSeconds(10), "The SQL stage seen through the second silo");
            Assert.Equal("bob", seenThroughSecond.GetProperty("ownerId").GetString());
            dueAt = seenThroughSecond.GetProperty("sla").GetProperty("dueAt").GetDateTimeOffset();
            var listed = await second.Admin().GetFromJsonAsync<JsonElement>("/api/leads?stage=SQL");
            Assert.Contains(listed.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetString() == leadId);
        }
        finally
        {
            await first.DisposeAsync();
        }

        var breached = await WaitForLeadAsync(second.Admin(), leadId, l => l.GetProperty("sla").GetProperty("breached").GetBoolean(), TimeSpan.FromSeconds(30), "The breach after the first silo left");
        Assert.Equal(1, breached.GetProperty("sla").GetProperty("remindersSent").GetInt32());
        await Eventually.UntilAsync(() => notices.Any(n => n.LeadId == leadId && n.Type == "sla_breached"), TimeSpan.FromSeconds(20), "The breach did not reach the webhook receiver.");
        var breach = Assert.Single(notices, n => n.LeadId == leadId && n.Type == "sla_breached");
        Assert.InRange(breach.At - dueAt, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Single(notices, n => n.LeadId == leadId && n.Type == "sla_reminder");
    }
}
