using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.Leads.Contracts;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>The default model, the stage machine, assignment and sales feedback through the public routes.</summary>
public sealed class LeadPipelineTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static string Visitor() => "v-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_visitor_who_meets_the_default_mql_signals_becomes_an_mql_and_adding_to_cart_makes_an_assigned_sql_with_a_deadline()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("leads-default-" + Guid.NewGuid().ToString("N")[..6]);
        await CreateRepAsync(admin, new { id = "bob", name = "Bob", email = "bob@shop.example" });

        var visitor = Visitor();
        var id = await QualifyAsMqlAsync(Host, admin, writeKey, visitor);
        var mql = await LeadAsync(admin, id);
        Assert.Equal("MQL", mql.GetProperty("stage").GetString());
        var fired = mql.GetProperty("score").GetProperty("rules").EnumerateArray().Where(r => r.GetProperty("satisfied").GetBoolean()).Select(r => r.GetProperty("ruleId").GetString()).ToList();
        Assert.Equal(["buyer_persona", "newsletter_or_download", "product_views", "time_on_site"], fired.Order());
        Assert.Equal(60, mql.GetProperty("score").GetProperty("fit").GetDouble() + mql.GetProperty("score").GetProperty("engagement").GetDouble(), 0);
        Assert.Equal(1, mql.GetProperty("score").GetProperty("modelVersion").GetInt32());
        Assert.Equal(["Visitor>Lead", "Lead>MQL"], mql.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("from").GetString() + ">" + h.GetProperty("to").GetString()));
        Assert.Equal("email", mql.GetProperty("source").GetProperty("channel").GetString());
        Assert.Equal("black-friday", mql.GetProperty("source").GetProperty("campaign").GetString());

        await AddToCartAsync(Host, writeKey, visitor);
        var sql = await LeadAsync(admin, id);
        Assert.Equal("SQL", sql.GetProperty("stage").GetString());
        Assert.Equal("bob", sql.GetProperty("ownerId").GetString());
        Assert.Contains("added_to_cart", sql.GetProperty("history")[2].GetProperty("reason").GetString());
        var due = sql.GetProperty("sla").GetProperty("dueAt").GetDateTimeOffset();
        Assert.InRange(due - sql.GetProperty("sla").GetProperty("startedAt").GetDateTimeOffset(), TimeSpan.FromMinutes(59.9), TimeSpan.FromMinutes(60.1));

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/leads?stage=SQL&owner=bob");
        Assert.Equal(id, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Reading_a_lead_waits_for_a_change_under_way_until_it_is_stored_but_not_for_the_observers_told_after()
    {
        var observer = new HoldingObserver();
        await using var host = TestHost.StartSqlite(services: s => s.AddSingleton<ILeadEventObserver>(observer));
        var admin = host.Admin();
        await CreateRepAsync(admin, new { id = "bob", name = "Bob" });
        var visitor = Visitor();
        var id = await QualifyAsMqlAsync(host, admin, host.WriteKey, visitor);

        observer.Arm();
        await SendAsync(host, host.WriteKey, Track(visitor, "Product Added", DateTimeOffset.UtcNow, new JsonObject { ["product_id"] = "p3" }));
        try
        {
            // Assigned, not yet stored: a read waits.
            Assert.Equal(id, (await observer.Assigned.Task.WaitAsync(TimeSpan.FromSeconds(30))).LeadId);
            var reading = admin.GetFromJsonAsync<JsonElement>($"/api/leads/{id}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(reading.IsCompleted, "The read answered before the change under way was stored.");

            // Stored, the observers still being told: the read answers the SQL.
            observer.ReleaseAssigned();
            Assert.Equal(id, (await observer.StageChanged.Task.WaitAsync(TimeSpan.FromSeconds(30))).LeadId);
            var lead = await reading.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("SQL", lead.GetProperty("stage").GetString());
            Assert.Equal("bob", lead.GetProperty("ownerId").GetString());
            var again = await admin.GetFromJsonAsync<JsonElement>($"/api/leads/{id}").WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("SQL", again.GetProperty("stage").GetString());
        }
        finally
        {
            observer.ReleaseAssigned();
            observer.ReleaseStageChanged();
        }

        await host.DrainAsync();
        Assert.Equal("SQL", (await LeadAsync(admin, id)).GetProperty("stage").GetString());
    }

    /// <summary>Once armed, holds the lead's turn on its first assignment and on its first SQL stage change until released.</summary>
    private sealed class HoldingObserver : ILeadEventObserver
    {
        private readonly TaskCompletionSource _assignedReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _stageChangedReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _armed;

        public TaskCompletionSource<LeadEvent> Assigned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<LeadEvent> StageChanged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm() => _armed = true;

        public void ReleaseAssigned() => _assignedReleased.TrySetResult();

        public void ReleaseStageChanged() => _stageChangedReleased.TrySetResult();

        public Task OnLeadEventAsync(LeadEvent leadEvent) => leadEvent switch
        {
            _ when !_armed => Task.CompletedTask,
            { Kind: "assigned" } when Assigned.TrySetResult(leadEvent) => _assignedReleased.Task,
            { Kind: "stage_changed", Stage: "SQL" } when StageChanged.TrySetResult(leadEvent) => _stageChangedReleased.Task,
            _ => Task.CompletedTask,
        };
    }

    [Fact]
    public async Task Round_robin_skips_the_rep_who_is_out_of_office_and_the_audit_says_why()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("leads-rr-" + Guid.NewGuid().ToString("N")[..6]);
        var now = DateTimeOffset.UtcNow;
        await CreateRepAsync(admin, new { id = "ann", name = "Ann", outOfOffice = new[] { new { from = now.AddDays(-1), to = now.AddDays(3) } } });
        await CreateRepAsync(admin, new { id = "bob", name = "Bob" });
        await CreateRepAsync(admin, new { id = "cyd", name = "Cyd" });

        var owners = new List<string>();
        foreach (var _ in Enumerable.Range(0, 3))
        {
            var visitor = Visitor();
            var id = await QualifyAsMqlAsync(Host, admin, writeKey, visitor);
            await AddToCartAsync(Host, writeKey, visitor);
            var lead = await LeadAsync(admin, id);
            owners.Add(lead.GetProperty("ownerId").GetString()!);
            var assignment = Assert.Single(lead.GetProperty("assignments").EnumerateArray());
            Assert.Equal("round_robin", assignment.GetProperty("strategy").GetString());
            Assert.Contains("skipped ann (out of office until", assignment.GetProperty("reason").GetString());
        }

        Assert.Equal(["bob", "cyd", "bob"], owners);
    }

    [Fact]
    public async Task Sales_accepts_or_rejects_an_sql_with_a_reason_and_guards_refuse_the_wrong_stage()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("leads-feedback-" + Guid.NewGuid().ToString("N")[..6]);
        await CreateRepAsync(admin, new { id = "bob", name = "Bob" });
        var first = Visitor();
        var accepted = await QualifyAsMqlAsync(Host, admin, writeKey, first);

        using (var early = await admin.PostAsync($"/api/leads/{accepted}/accept", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Contains("Only an SQL", (await early.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }

        await AddToCartAsync(Host, writeKey, first);
        using (var accept = await admin.PostAsync($"/api/leads/{accepted}/accept", null))
        {
            Assert.Equal(HttpStatusCode.OK, accept.StatusCode);
            Assert.Equal("Accepted", (await accept.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stage").GetString());
        }

        var second = Visitor();
        var rejected = await QualifyAsMqlAsync(Host, admin, writeKey, second);
        await AddToCartAsync(Host, writeKey, second);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/leads/{rejected}/reject", new { reason = "meh" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync($"/api/leads/{rejected}/reject", new { reason = "other" })).StatusCode);
        using (var reject = await admin.PostAsJsonAsync($"/api/leads/{rejected}/reject", new { reason = "not_ready_to_buy", note = "budget next quarter" }))
        {
            var lead = await reject.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("Rejected", lead.GetProperty("stage").GetString());
            Assert.Equal("not_ready_to_buy", lead.GetProperty("rejectionReason").GetString());
            Assert.Equal("black-friday", lead.GetProperty("source").GetProperty("campaign").GetString());
        }

        using (var recycle = await admin.PostAsJsonAsync($"/api/leads/{rejected}/recycle", new { note = "nurture" }))
        {
            Assert.Equal("Recycled", (await recycle.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stage").GetString());
        }

        // Recycled: old signals no longer count; new behaviour qualifies the lead again.
        await AddToCartAsync(Host, writeKey, second);
        Assert.Equal("SQL", (await LeadAsync(admin, rejected)).GetProperty("stage").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/leads/cus_00000000000000000000000000000000/accept", null)).StatusCode);
    }

    [Fact]
    public async Task Another_workspace_cannot_see_or_act_on_a_lead_and_viewers_cannot_act()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("leads-iso-" + Guid.NewGuid().ToString("N")[..6]);
        var id = await QualifyAsMqlAsync(Host, admin, writeKey, Visitor());
        var (_, other, _) = await Host.CreateWorkspaceAsync("leads-other-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/leads/{id}")).StatusCode);
        foreach (var action in (string[])["contact", "accept", "reject", "recycle", "assign", "pause", "resume"])
        {
            using var response = await other.PostAsJsonAsync($"/api/leads/{id}/{action}", new { reason = "poor_quality" });
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{action}: {(int)response.StatusCode}");
        }

        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/leads")).GetProperty("items").EnumerateArray());
        using var viewerKey = await admin.PostAsJsonAsync("/api/api-keys", new { name = "bi", kind = "api", roles = new[] { "viewer" } });
        using var viewer = Host.ApiClient((await viewerKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/leads/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync($"/api/leads/{id}/contact", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsJsonAsync("/api/scoring-model", new { })).StatusCode);
    }

    [Fact]
    public async Task A_lead_entered_through_the_api_joins_the_known_profile_keeps_its_source_and_owner_and_a_retry_answers_the_same_lead()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("leads-api-" + Guid.NewGuid().ToString("N")[..6]);
        await CreateRepAsync(admin, new { id = "eve", name = "Eve" });

        var body = new
        {
            email = "Trade.Show@Example.com", firstName = "Tess", company = "Acme", traits = new { industry = "retail" },
            source = new { source = "targi-poznan", medium = "event", campaign = "expo-2026" }, ownerId = "eve", note = "met at the booth",
            idempotencyKey = "expo-2026-row-17",
        };
        using var created = await admin.PostAsJsonAsync("/api/leads", body);
        var lead = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"{(int)created.StatusCode} {lead}");
        var id = lead.GetProperty("id").GetString()!;
        Assert.Equal($"/api/leads/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("Lead", lead.GetProperty("stage").GetString());
        Assert.Equal("eve", lead.GetProperty("ownerId").GetString());
        Assert.Equal("targi-poznan", lead.GetProperty("source").GetProperty("source").GetString());
        Assert.Equal("expo-2026", lead.GetProperty("source").GetProperty("campaign").GetString());
        Assert.Contains(lead.GetProperty("history").EnumerateArray(), h => h.GetProperty("reason").GetString() == "entered through the API: met at the booth");

        using var retried = await admin.PostAsJsonAsync("/api/leads", body);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        var again = await retried.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, again.GetProperty("id").GetString());
        Assert.Single(again.GetProperty("history").EnumerateArray(), h => h.GetProperty("reason").GetString()!.StartsWith("entered through the API", StringComparison.Ordinal));
        Assert.Single(again.GetProperty("assignments").EnumerateArray());

        // Behaviour on the site under the same email lands on the same lead, and the profile holds the traits.
        var visitor = Visitor();
        await SendAsync(Host, writeKey, Identify(visitor, DateTimeOffset.UtcNow, "trade.show@example.com"));
        await Host.DrainAsync();
        Assert.Equal(id, await Host.FindCustomerAsync("anonymousId=" + visitor, admin));
        var profile = await admin.GetFromJsonAsync<JsonElement>($"/api/customers/{id}");
        Assert.Equal("Acme", profile.GetProperty("traits").GetProperty("company").GetString());
        Assert.Equal("retail", profile.GetProperty("traits").GetProperty("industry").GetString());

        var (_, other, _) = await Host.CreateWorkspaceAsync("leads-api-other-" + Guid.NewGuid().ToString("N")[..6]);
        using var unknownRep = await other.PostAsJsonAsync("/api/leads", body);
        Assert.Equal(HttpStatusCode.BadRequest, unknownRep.StatusCode);
        Assert.Contains("no sales rep 'eve'", (await unknownRep.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        await CreateRepAsync(other, new { id = "eve", name = "Eve of B" });
        using var inOther = await other.PostAsJsonAsync("/api/leads", body);
        Assert.Equal(HttpStatusCode.Created, inOther.StatusCode);
        Assert.NotEqual(id, (await inOther.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/leads")).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("{}", "'email' or 'phone' is required")]
    [InlineData("{\"email\":\"not an email\"}", "'email' is not an email address")]
    [InlineData("{\"phone\":\"call me\"}", "'phone' is not a phone number")]
    [InlineData("{\"email\":\"a@b.example\",\"idempotencyKey\":\"\"}", "'idempotencyKey' must have")]
    [InlineData("{\"email\":\"a@b.example\",\"traits\":[1]}", "")]
    public async Task Entering_a_lead_without_a_valid_contact_gets_a_clear_400_and_stores_nothing(string json, string detail)
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("leads-api-bad-" + Guid.NewGuid().ToString("N")[..6]);
        using var response = await admin.PostAsync("/api/leads", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        await Host.DrainAsync();
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/customers")).GetProperty("items").EnumerateArray());
    }
}
