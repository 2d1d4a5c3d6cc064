using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Segmentation;

/// <summary>Segments defined through the API over a scripted population, kept current in real time on the real host.</summary>
public sealed class SegmentTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static string Ts(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    private static JsonObject Identify(string user, DateTimeOffset at, JsonObject traits) => new()
    {
        ["type"] = "identify", ["userId"] = user, ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(), ["traits"] = traits,
    };

    private static JsonObject Track(string user, string name, DateTimeOffset at, JsonObject? properties = null) => new()
    {
        ["type"] = "track", ["userId"] = user, ["event"] = name, ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        ["properties"] = properties ?? new JsonObject(),
    };

    private static JsonObject Order(string user, string orderId, double revenue, DateTimeOffset at) =>
        Track(user, "Order Completed", at, new JsonObject { ["order_id"] = orderId, ["revenue"] = revenue, ["currency"] = "PLN" });

    private async Task SendAsync(string writeKey, params JsonObject[] messages)
    {
        var batch = new JsonObject { ["batch"] = new JsonArray(messages.Select(m => (JsonNode)m).ToArray()) };
        await Host.SendOkAsync("/v1/batch", batch.ToJsonString(), writeKey);
    }

    /// <summary>
    /// u1: 3 orders (200, 100 and 10 days ago; 600 in all), plan pro, email consent; u2: one order 120 days ago; u3: 3
    /// products viewed this week; u4: 2 orders 400 days ago; u5: 2 products viewed this week and one 10 days ago; u6: one
    /// order of 1000 five days ago, email consent withdrawn.
    /// </summary>
    private async Task<Dictionary<string, string>> ScriptPopulationAsync(string writeKey, HttpClient admin, string prefix)
    {
        var now = DateTimeOffset.UtcNow;
        string U(int n) => $"{prefix}-u{n}";
        await SendAsync(writeKey,
            Identify(U(1), now.AddDays(-201), new JsonObject { ["email"] = $"{U(1)}@Example.com", ["plan"] = "pro", ["consents"] = new JsonObject { ["email"] = true } }),
            Order(U(1), $"{prefix}-o1", 200, now.AddDays(-200)), Order(U(1), $"{prefix}-o2", 100, now.AddDays(-100)), Order(U(1), $"{prefix}-o3", 300, now.AddDays(-10)),
            Identify(U(2), now.AddDays(-121), new JsonObject { ["email"] = $"{U(2)}@example.com", ["plan"] = "free", ["consents"] = new JsonObject { ["advertising"] = false } }),
            Order(U(2), $"{prefix}-o4", 50, now.AddDays(-120)),
            Track(U(3), "Product Viewed", now.AddDays(-3), new JsonObject { ["category"] = "shoes" }),
            Track(U(3), "Product Viewed", now.AddDays(-2), new JsonObject { ["category"] = "shoes" }),
            Track(U(3), "Product Viewed", now.AddDays(-1), new JsonObject { ["category"] = "bags" }),
            Order(U(4), $"{prefix}-o5", 100, now.AddDays(-401)), Order(U(4), $"{prefix}-o6", 100, now.AddDays(-400)),
            Track(U(5), "Product Viewed", now.AddDays(-10)), Track(U(5), "Product Viewed", now.AddDays(-2)), Track(U(5), "Product Viewed", now.AddDays(-1)),
            Identify(U(6), now.AddDays(-6), new JsonObject { ["email"] = $"{U(6)}@example.com", ["consents"] = new JsonObject { ["email"] = false } }),
            Order(U(6), $"{prefix}-o7", 1000, now.AddDays(-5)));
        await Host.DrainAsync();
        var ids = new Dictionary<string, string>();
        for (var n = 1; n <= 6; n++)
        {
            ids[$"u{n}"] = (await Host.FindCustomerAsync("userId=" + U(n), admin))!;
        }

        return ids;
    }

    private static async Task<JsonElement> CreateAsync(HttpClient admin, string id, object rule)
    {
        using var response = await admin.PostAsJsonAsync("/api/segments", new { id, name = id, rule });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/segments {id}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static async Task<HashSet<string>> MembersAsync(HttpClient admin, string id)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/segments/{id}/members?limit=1000");
        return page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("customerId").GetString()!).ToHashSet();
    }

    private static Task<JsonElement> BackfilledAsync(HttpClient admin, string id) => Eventually.UntilAsync(
        () => admin.GetFromJsonAsync<JsonElement>($"/api/segments/{id}"),
        s => s.GetProperty("backfill").GetProperty("status").GetString() == "completed",
        TimeSpan.FromSeconds(30),
        s => $"The back-fill of {id} did not complete: {s}");

    [Fact]
    public async Task Segments_hold_exactly_the_customers_a_hand_computation_says()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("seg-hand-" + Guid.NewGuid().ToString("N")[..6]);
        var ids = await ScriptPopulationAsync(writeKey, admin, "hand");

        await CreateAsync(admin, "big-spenders", new { all = new object[] { new { metric = "orders", op = "gte", value = 2 }, new { metric = "revenue", op = "gt", value = 500 } } });
        await CreateAsync(admin, "lapsed", new { all = new object[] { new { metric = "orders", op = "gte", value = 1 }, new { metric = "lastOrderAt", op = "olderThan", value = "P90D" } } });
        await CreateAsync(admin, "browsers", new { @event = "Product Viewed", within = "P7D", op = "gte", value = 3 });
        await CreateAsync(admin, "shoe-browsers", new { @event = "Product Viewed", within = "P7D", where = new[] { new { property = "category", op = "eq", value = "SHOES" } } });
        await CreateAsync(admin, "mailable-not-lapsed", new { all = new object[] { new { consent = "email", granted = true }, new { not = new { segment = "lapsed" } } } });
        await CreateAsync(admin, "dormant", new { metric = "lifecycle", op = "eq", value = "dormant" });
        await CreateAsync(admin, "new-or-lost", new { metric = "lifecycle", op = "in", value = new[] { "new", "lost" } });
        await CreateAsync(admin, "pro", new { trait = "plan", op = "eq", value = "pro" });
        await CreateAsync(admin, "buyers", new { metric = "orders", op = "gte", value = 1 });
        await CreateAsync(admin, "no-order-in-90-days", new { any = new object[] { new { metric = "daysSinceLastOrder", op = "gt", value = 90 }, new { metric = "orders", op = "eq", value = 0 } } });

        var expected = new Dictionary<string, string[]>
        {
            ["big-spenders"] = ["u1"],
            ["lapsed"] = ["u2", "u4"],
            ["browsers"] = ["u3"],
            ["shoe-browsers"] = ["u3"],
            ["mailable-not-lapsed"] = ["u1"],
            ["dormant"] = ["u2"],
            ["new-or-lost"] = ["u4", "u6"],
            ["pro"] = ["u1"],
            ["no-order-in-90-days"] = ["u2", "u3", "u4", "u5"],
            ["buyers"] = ["u1", "u2", "u4", "u6"],
        };
        foreach (var (segment, members) in expected)
        {
            var view = await BackfilledAsync(admin, segment);
            var want = members.Select(m => ids[m]).ToHashSet();
            Assert.True(want.SetEquals(await MembersAsync(admin, segment)), $"{segment}: expected {string.Join(",", members)}");
            Assert.Equal(want.Count, (await admin.GetFromJsonAsync<JsonElement>($"/api/segments/{segment}")).GetProperty("memberCount").GetInt64());
            Assert.True(view.GetProperty("backfill").GetProperty("done").GetInt64() >= 6);

            var preview = await admin.PostAsJsonAsync("/api/segments/preview", new { rule = view.GetProperty("rule") });
            var answer = await preview.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(preview.StatusCode == HttpStatusCode.OK, answer.ToString());
            Assert.Equal(want.Count, answer.GetProperty("count").GetInt64());
            Assert.True(want.SetEquals(answer.GetProperty("sample").EnumerateArray().Select(s => s.GetProperty("id").GetString()!)), $"preview of {segment}: {answer}");
        }

        var csv = await admin.GetStringAsync("/api/segments/lapsed/members?format=csv");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("customer_id,entered_at,user_id,email,phone,name", lines[0].Trim());
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.StartsWith(ids["u2"] + ",", StringComparison.Ordinal) && l.Contains("hand-u2@example.com", StringComparison.Ordinal));

        var audience = (await admin.GetStringAsync("/api/segments/big-spenders/audience")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Email,Phone", audience[0].Trim());
        var hashed = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("hand-u1@example.com")));
        Assert.Equal(hashed + ",", audience[1].Trim());

        // u4 has no email or phone; u2 withdrew the advertising consent: only u1 and u6 go to the ad platform.
        string Hash(string email) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)));
        var buyers = (await admin.GetStringAsync("/api/segments/buyers/audience?platform=meta")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        Assert.Equal("EMAIL,PHONE", buyers[0]);
        Assert.True(new[] { Hash("hand-u1@example.com") + ",", Hash("hand-u6@example.com") + "," }.ToHashSet().SetEquals(buyers.Skip(1)), string.Join(" | ", buyers));
        Assert.DoesNotContain(Hash("hand-u2@example.com") + ",", buyers);
    }

    private static async Task<long> PreviewCountAsync(HttpClient admin, object rule)
    {
        using var response = await admin.PostAsJsonAsync("/api/segments/preview", new { rule });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("count").GetInt64();
    }

    [Fact]
    public async Task A_membership_changes_within_a_second_of_the_event_and_the_change_is_an_event()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("seg-live-" + Guid.NewGuid().ToString("N")[..6]);
        var everyone = new { metric = "events", op = "gte", value = 0 };
        Assert.Equal(0, await PreviewCountAsync(admin, everyone));
        var ids = await ScriptPopulationAsync(writeKey, admin, "live");
        Assert.Equal(6, await PreviewCountAsync(admin, everyone));
        await CreateAsync(admin, "browsers", new { @event = "Product Viewed", within = "P7D", op = "gte", value = 3 });
        await BackfilledAsync(admin, "browsers");
        Assert.DoesNotContain(ids["u5"], await MembersAsync(admin, "browsers"));

        var watch = Stopwatch.StartNew();
        await SendAsync(writeKey, Track("live-u5", "Product Viewed", DateTimeOffset.UtcNow));
        await Eventually.UntilAsync(() => MembersAsync(admin, "browsers"), m => m.Contains(ids["u5"]), TimeSpan.FromSeconds(5), _ => "u5 did not enter");
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"The membership changed {watch.Elapsed.TotalMilliseconds:F0} ms after the event was acknowledged.");

        var changes = await admin.GetFromJsonAsync<JsonElement>("/api/segments/browsers/changes");
        Assert.Contains(changes.EnumerateArray(), c => c.GetProperty("customerId").GetString() == ids["u5"] && c.GetProperty("kind").GetString() == "entered");
        await Eventually.UntilAsync(
            () => admin.GetFromJsonAsync<JsonElement>($"/api/customers/{ids["u5"]}/timeline"),
            t => t.GetProperty("items").EnumerateArray().Any(e => e.GetProperty("name").GetString() == "Segment Entered"),
            TimeSpan.FromSeconds(10),
            t => $"No Segment Entered on the timeline: {t}");
    }

    [Fact]
    public async Task A_time_based_condition_moves_the_customer_out_on_time_without_an_event()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("seg-time-" + Guid.NewGuid().ToString("N")[..6]);
        await CreateAsync(admin, "just-browsing", new { @event = "Product Viewed", within = "PT4S" });
        var viewedAt = DateTimeOffset.UtcNow;
        await SendAsync(writeKey, Track("time-u1", "Product Viewed", viewedAt));
        await Host.DrainAsync();
        var id = (await Host.FindCustomerAsync("userId=time-u1", admin))!;
        await Eventually.UntilAsync(() => MembersAsync(admin, "just-browsing"), m => m.Contains(id), TimeSpan.FromSeconds(3), _ => "did not enter");

        var exit = await Eventually.UntilAsync(
            () => admin.GetFromJsonAsync<JsonElement>("/api/segments/just-browsing/changes"),
            c => c.EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "exited"),
            TimeSpan.FromSeconds(10),
            c => $"No exit: {c}");
        var exitedAt = exit.EnumerateArray().First(e => e.GetProperty("kind").GetString() == "exited").GetProperty("at").GetDateTimeOffset();
        var due = viewedAt.AddSeconds(4);
        Assert.True(exitedAt >= due.AddMilliseconds(-5) && exitedAt - due < TimeSpan.FromSeconds(1), $"Due {due:O}, exited {exitedAt:O}");
        Assert.Empty(await MembersAsync(admin, "just-browsing"));
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/segments/just-browsing")).GetProperty("memberCount").GetInt64());
    }

    [Fact]
    public async Task A_time_based_exit_comes_due_while_the_host_is_down_and_happens_after_the_restart()
    {
        var data = Scratch.NewDirectory("segments");
        var settings = TestHost.KeySettings("seg");
        DateTimeOffset viewedAt;
        string id;
        await using (var host = TestHost.StartSqlite(data, settings))
        {
            var admin = host.Admin();
            await CreateAsync(admin, "browsing", new { @event = "Product Viewed", within = "PT8S" });
            viewedAt = DateTimeOffset.UtcNow;
            var batch = new JsonObject { ["batch"] = new JsonArray(Track("restart-u1", "Product Viewed", viewedAt)) };
            await host.SendOkAsync("/v1/batch", batch.ToJsonString(), settings["Modulith:Bootstrap:WriteKey"]);
            await host.DrainAsync();
            id = (await host.FindCustomerAsync("userId=restart-u1", admin))!;
            await Eventually.UntilAsync(() => MembersAsync(admin, "browsing"), m => m.Contains(id), TimeSpan.FromSeconds(3), _ => "did not enter");
        }

        // Down for longer than the rest of the window: only the stored due time can bring the exit back.
        await Task.Delay(viewedAt.AddSeconds(9) - DateTimeOffset.UtcNow);
        await using (var restarted = TestHost.StartSqlite(data, settings))
        {
            var restartedAt = DateTimeOffset.UtcNow;
            var admin = restarted.Admin();
            var changes = await Eventually.UntilAsync(
                () => admin.GetFromJsonAsync<JsonElement>("/api/segments/browsing/changes"),
                c => c.EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "exited"),
                TimeSpan.FromSeconds(15),
                c => $"No exit after the restart: {c}");
            var exitedAt = changes.EnumerateArray().First(e => e.GetProperty("kind").GetString() == "exited").GetProperty("at").GetDateTimeOffset();
            Assert.True(exitedAt >= viewedAt.AddSeconds(8) && exitedAt - restartedAt < TimeSpan.FromSeconds(5), $"due {viewedAt.AddSeconds(8):O}, restarted {restartedAt:O}, exited {exitedAt:O}");
            Assert.Empty(await MembersAsync(admin, "browsing"));
        }
    }

    [Fact]
    public async Task Invalid_rules_get_a_400_listing_what_is_wrong_and_nothing_is_stored()
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("seg-bad-" + Guid.NewGuid().ToString("N")[..6]);
        async Task<JsonElement> BadAsync(object body)
        {
            using var response = await admin.PostAsJsonAsync("/api/segments", body);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, problem.ToString());
            return problem;
        }

        var unknown = await BadAsync(new { id = "x", name = "x", rule = new { all = new object[] { new { metric = "revnue", op = "gt", value = 1 }, new { @event = "Product Viewed" } } } });
        var errors = unknown.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("rule.all[0].metric: unknown metric \"revnue\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rule.all[1].within:", StringComparison.Ordinal));
        await BadAsync(new { id = "x", name = "x", rule = new { metric = "orders", op = "gt", value = "many" } });
        await BadAsync(new { id = "x", name = "x", rule = new { segment = "missing" } });
        await BadAsync(new { id = "x", name = "x" });
        await BadAsync(new { id = "bad id!", name = "x", rule = new { metric = "orders", op = "gt", value = 1 } });
        await BadAsync(new { id = "x", name = "x", rule = new { metric = "lastOrderAt", op = "olderThan", value = "90 days" } });
        using (var malformed = await admin.PostAsync("/api/segments", new StringContent("{\"name\":", Encoding.UTF8, "application/json")))
        {
            var problem = await malformed.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Contains("JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }


        await CreateAsync(admin, "a", new { metric = "orders", op = "gt", value = 1 });
        await CreateAsync(admin, "b", new { segment = "a" });
        using var cycle = await admin.PutAsJsonAsync("/api/segments/a", new { name = "a", rule = new { segment = "b" } });
        Assert.Equal(HttpStatusCode.BadRequest, cycle.StatusCode);
        Assert.Contains("a -> b -> a", await cycle.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var referenced = await admin.DeleteAsync("/api/segments/a");
        Assert.Equal(HttpStatusCode.Conflict, referenced.StatusCode);

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/segments");
        Assert.Equal(["a", "b"], list.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray());
        Assert.Equal(1, (await admin.GetFromJsonAsync<JsonElement>("/api/segments/a")).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Another_workspace_can_neither_see_nor_change_a_segment()
    {
        var (_, adminA, writeKeyA) = await Host.CreateWorkspaceAsync("seg-iso-a-" + Guid.NewGuid().ToString("N")[..6]);
        var (_, adminB, _) = await Host.CreateWorkspaceAsync("seg-iso-b-" + Guid.NewGuid().ToString("N")[..6]);
        await ScriptPopulationAsync(writeKeyA, adminA, "iso");
        await CreateAsync(adminA, "secret", new { metric = "orders", op = "gte", value = 1 });
        await BackfilledAsync(adminA, "secret");

        foreach (var route in new[] { "/api/segments/secret", "/api/segments/secret/members", "/api/segments/secret/members?format=csv", "/api/segments/secret/audience", "/api/segments/secret/changes" })
        {
            using var read = await adminB.GetAsync(route);
            Assert.True(read.StatusCode == HttpStatusCode.NotFound, $"{route}: {(int)read.StatusCode}");
        }

        using (var put = await adminB.PutAsJsonAsync("/api/segments/secret", new { name = "mine", rule = new { metric = "orders", op = "eq", value = 0 } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        }

        using (var delete = await adminB.DeleteAsync("/api/segments/secret"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }

        Assert.Empty((await adminB.GetFromJsonAsync<JsonElement>("/api/segments")).EnumerateArray());
        using var preview = await adminB.PostAsJsonAsync("/api/segments/preview", new { rule = new { metric = "orders", op = "gte", value = 1 } });
        Assert.Equal(0, (await preview.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("count").GetInt64());
        using var reference = await adminB.PostAsJsonAsync("/api/segments/preview", new { rule = new { segment = "secret" } });
        Assert.Equal(HttpStatusCode.BadRequest, reference.StatusCode);
        Assert.Equal(4, (await adminA.GetFromJsonAsync<JsonElement>("/api/segments/secret")).GetProperty("memberCount").GetInt64());
    }

    [Fact]
    public async Task Rfm_scores_and_named_cells_follow_the_documented_quintiles()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("seg-rfm-" + Guid.NewGuid().ToString("N")[..6]);
        var ids = await ScriptPopulationAsync(writeKey, admin, "rfm");
        using var recompute = await admin.PostAsync("/api/rfm/recompute", null);
        var summary = await recompute.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(recompute.StatusCode == HttpStatusCode.OK, summary.ToString());

        // Buyers: u1 (10 d, 3 orders, 600), u2 (120 d, 1, 50), u4 (400 d, 2, 200), u6 (5 d, 1, 1000).
        // Nearest-rank cut points over 4 values: positions ceil(0.2*4)=1, 2, 3, 4.
        Assert.Equal(4, summary.GetProperty("customers").GetInt32());
        Assert.Equal([1, 1, 2, 3], summary.GetProperty("frequency").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        Assert.Equal([50, 200, 600, 1000], summary.GetProperty("monetary").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        // u6: R 5 (<= 5 d), F 1, M 4 -> FM 3 -> potential_loyalist; u1: R 4, F 4, M 3 -> FM 4 -> loyal;
        // u2: R 3, F 1, M 1 -> about_to_sleep; u4: R 2, F 3, M 2 -> FM 3 -> at_risk.
        var cells = summary.GetProperty("cells");
        Assert.Equal(1, cells.GetProperty("potential_loyalist").GetInt64());
        Assert.Equal(1, cells.GetProperty("loyal").GetInt64());
        Assert.Equal(1, cells.GetProperty("about_to_sleep").GetInt64());
        Assert.Equal(1, cells.GetProperty("at_risk").GetInt64());
        var lifecycle = summary.GetProperty("lifecycle");
        Assert.Equal(2, lifecycle.GetProperty("prospect").GetInt64());
        Assert.Equal(1, lifecycle.GetProperty("new").GetInt64());

        await CreateAsync(admin, "loyal", new { metric = "rfmCell", op = "eq", value = "loyal" });
        await CreateAsync(admin, "recent", new { metric = "rfmRecency", op = "gte", value = 4 });
        await BackfilledAsync(admin, "loyal");
        await BackfilledAsync(admin, "recent");
        Assert.Equal([ids["u1"]], await MembersAsync(admin, "loyal"));
        var recent = await MembersAsync(admin, "recent");
        Assert.True(new[] { ids["u1"], ids["u6"] }.ToHashSet().SetEquals(recent),
            $"recent: {string.Join(", ", recent.Select(r => ids.First(i => i.Value == r).Key))}; {await admin.GetStringAsync("/api/rfm")}");

        using var windows = await admin.PutAsJsonAsync("/api/lifecycle", new { newWithin = "P3D", activeWithin = "P7D", lostAfter = "P30D" });
        Assert.Equal(HttpStatusCode.OK, windows.StatusCode);
        using var invalid = await admin.PutAsJsonAsync("/api/lifecycle", new { newWithin = "P30D", activeWithin = "P7D" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var after = await (await admin.PostAsync("/api/rfm/recompute", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, after.GetProperty("lifecycle").GetProperty("active").GetInt64());
        Assert.Equal(1, after.GetProperty("lifecycle").GetProperty("dormant").GetInt64());
        Assert.Equal(2, after.GetProperty("lifecycle").GetProperty("lost").GetInt64());
    }
}
