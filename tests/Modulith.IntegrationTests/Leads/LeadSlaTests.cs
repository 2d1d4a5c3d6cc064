using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Modulith.IntegrationTests.Connectors;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>The lead SLA end to end: reminders, breach and escalation on time, across a restart, through the webhook channel.</summary>
public sealed class LeadSlaTests
{
    [Fact]
    public async Task Reminders_and_the_escalation_fire_on_time_also_after_a_restart_and_a_contact_stops_the_clock()
    {
        var (receiver, port, notices) = await StartLeadEventReceiverAsync();
        await using var _ = receiver;

        var data = Scratch.NewDirectory("sla");
        var settings = TestHost.KeySettingsWithChannels("sla");
        string slow, contacted;
        DateTimeOffset startedAt, dueAt;
        await using (var host = TestHost.StartSqlite(data, settings))
        {
            var admin = host.Admin();
            await CreateRepAsync(admin, new { id = "meg", name = "Meg", team = "managers", email = "meg@shop.example" });
            await CreateRepAsync(admin, new { id = "bob", name = "Bob", team = "sales", managerId = "meg", email = "bob@shop.example" });
            var webhookId = await ConnectorInstances.CreateWebhookAsync(admin, $"http://127.0.0.1:{port}/lead-events", RandomNumberGenerator.GetBytes(32), "sales-events");
            await PutAsync(admin, "/api/sla-policies", new
            {
                calendars = Array.Empty<object>(),
                policies = new[]
                {
                    new
                    {
                        id = "sql-fast",
                        stage = "SQL",
                        within = "PT6S",
                        reminders = new[] { 0.5 },
                        escalations = new[] { new { after = "PT1S", notify = "manager" } },
                        assignment = new { strategy = "round_robin", team = "sales" },
                    },
                },
                notifications = new { webhookInstanceId = webhookId },
            });

            var first = "sla-a-" + Guid.NewGuid().ToString("N")[..8];
            var second = "sla-b-" + Guid.NewGuid().ToString("N")[..8];
            slow = await QualifyAsMqlAsync(host, admin, host.WriteKey, first);
            contacted = await QualifyAsMqlAsync(host, admin, host.WriteKey, second);
            await AddToCartAsync(host, host.WriteKey, first);
            await AddToCartAsync(host, host.WriteKey, second);
            var lead = await LeadAsync(admin, slow);
            Assert.Equal("SQL", lead.GetProperty("stage").GetString());
            Assert.Equal("bob", lead.GetProperty("ownerId").GetString());
            startedAt = lead.GetProperty("sla").GetProperty("startedAt").GetDateTimeOffset();
            dueAt = lead.GetProperty("sla").GetProperty("dueAt").GetDateTimeOffset();
            Assert.Equal(TimeSpan.FromSeconds(6), dueAt - startedAt);

            using var contact = await admin.PostAsJsonAsync($"/api/leads/{contacted}/contact", new { channel = "call" });
            Assert.Equal(HttpStatusCode.OK, contact.StatusCode);
            Assert.NotEqual(JsonValueKind.Null, (await contact.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sla").GetProperty("firstContactAt").ValueKind);
        }

        // The host is down for a moment; the clock goes on and the restarted host fires what is due.
        await using (var restarted = TestHost.StartSqlite(data, settings))
        {
            // Nothing reads the lead before its escalation is out: only its SLA timer's stored row can wake it.
            await Eventually.UntilAsync(() => notices.Any(n => n.LeadId == slow && n.Type == "sla_escalated"), TimeSpan.FromSeconds(30), "The escalation did not reach the webhook receiver.");
            var admin = restarted.Admin();
            var escalated = await WaitForLeadAsync(admin, slow, l => l.GetProperty("sla").GetProperty("escalationsSent").GetInt32() == 1, TimeSpan.FromSeconds(30), "The escalation");
            Assert.True(escalated.GetProperty("sla").GetProperty("breached").GetBoolean());
            Assert.Equal(1, escalated.GetProperty("sla").GetProperty("remindersSent").GetInt32());
            Assert.Equal(JsonValueKind.Null, escalated.GetProperty("sla").GetProperty("firstContactAt").ValueKind);
            var breached = await admin.GetFromJsonAsync<JsonElement>("/api/leads?breached=true");
            Assert.Contains(breached.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetString() == slow);

            await Task.Delay(TimeSpan.FromSeconds(1));
            var quiet = await LeadAsync(admin, contacted);
            Assert.False(quiet.GetProperty("sla").GetProperty("breached").GetBoolean());
            Assert.Equal(0, quiet.GetProperty("sla").GetProperty("remindersSent").GetInt32());
        }

        var ofSlow = notices.Where(n => n.LeadId == slow).ToList();
        Assert.Contains(ofSlow, n => n.Type == "assigned" && n.RepId == "bob");
        var reminder = Assert.Single(ofSlow, n => n.Type == "sla_reminder");
        Assert.True(reminder.At >= startedAt.AddSeconds(3), $"The reminder fired early: {reminder.At:O}, due {startedAt.AddSeconds(3):O}.");
        var breach = Assert.Single(ofSlow, n => n.Type == "sla_breached");
        Assert.InRange(breach.At - dueAt, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        var escalation = Assert.Single(ofSlow, n => n.Type == "sla_escalated");
        Assert.Equal("meg", escalation.RepId);
        Assert.InRange(escalation.At - dueAt.AddSeconds(1), TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(notices, n => n.LeadId == contacted && n.Type.StartsWith("sla_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sla_policies_and_reps_with_invalid_values_get_clear_400s()
    {
        await using var host = TestHost.StartSqlite();
        var admin = host.Admin();
        foreach (var (body, expected) in new (object Body, string Expected)[]
        {
            (new { policies = new[] { new { id = "p", within = "an hour" } } }, "'within' must be an ISO 8601 duration"),
            (new { policies = new[] { new { id = "p", within = "PT1H", calendar = "office" } } }, "calendar 'office' is not defined"),
            (new { calendars = new[] { new { id = "office", timeZone = "Mars/Olympus", workingHours = new Dictionary<string, string[]> { ["monday"] = ["09:00-17:00"] } } }, policies = Array.Empty<object>() }, "time zone"),
            (new { calendars = new[] { new { id = "office", timeZone = "Europe/Warsaw", workingHours = new Dictionary<string, string[]> { ["monday"] = ["17:00-09:00"] } } }, policies = Array.Empty<object>() }, "09:00-17:00"),
            (new { policies = new[] { new { id = "p", within = "PT1H", reminders = new[] { 0.8, 0.5 } } } }, "ascending fractions"),
        })
        {
            using var response = await admin.PutAsJsonAsync("/api/sla-policies", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }

        using var rep = await admin.PostAsJsonAsync("/api/sales-reps", new { id = "x y", name = "X" });
        Assert.Equal(HttpStatusCode.BadRequest, rep.StatusCode);
        using var ooo = await admin.PostAsJsonAsync("/api/sales-reps", new { id = "x", name = "X", outOfOffice = new[] { new { from = DateTimeOffset.UtcNow, to = DateTimeOffset.UtcNow.AddDays(-1) } } });
        Assert.Equal(HttpStatusCode.BadRequest, ooo.StatusCode);
        var agreement = await admin.GetFromJsonAsync<JsonElement>("/api/sla-policies");
        Assert.Equal("sql-default", agreement.GetProperty("policies")[0].GetProperty("id").GetString());
    }
}
