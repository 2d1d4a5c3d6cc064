using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>
/// The outbox through the public routes: messages are queued durably, sent through the real webhook plugin to a
/// receiver on loopback, retried with back-off, dead-lettered when retries run out, and sent again on request.
/// </summary>
public sealed class MessagingTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>, IAsyncLifetime
{
    private readonly ConcurrentQueue<Delivery> _received = new();
    private readonly ConcurrentDictionary<string, int> _flakyCalls = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private int _port;
    private WebApplication? _receiver;
    private volatile bool _downHealed;

    private TestHost Host => fixture.Host;

    private sealed record Delivery(string Path, string WebhookId, string Timestamp, string Signature, string Body, long ElapsedMs);

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        (_receiver, _port) = await LoopbackServer.StartAsync(app => app.MapPost("/{kind}", async (string kind, HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var id = context.Request.Headers["webhook-id"].ToString();
            _received.Enqueue(new Delivery(kind, id, context.Request.Headers["webhook-timestamp"].ToString(), context.Request.Headers["webhook-signature"].ToString(), body, clock.ElapsedMilliseconds));
            return kind switch
            {
                "ok" => Results.Ok(),
                "flaky" => _flakyCalls.AddOrUpdate(id, 1, (_, n) => n + 1) <= 2 ? Results.StatusCode(503) : Results.Ok(),
                "down" => _downHealed ? Results.Ok() : Results.StatusCode(500),
                "gone" => Results.StatusCode(410),
                _ => Results.NotFound(),
            };
        }));
    }

    public async Task DisposeAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_message_that_fails_for_now_is_retried_with_growing_waits_until_it_is_sent()
    {
        var instance = await WebhookInstanceAsync(Host.Admin(), "flaky");
        var queued = await QueueAsync(Host.Admin(), instance, new { recipient = "jane@example.com", text = "Hello" });
        Assert.Equal("pending", queued.GetProperty("status").GetString());
        var id = queued.GetProperty("id").GetString()!;

        var sent = await WaitForStatusAsync(Host.Admin(), instance, id, "sent");
        Assert.Equal(3, sent.GetProperty("attempts").GetInt32());
        Assert.Equal(id, sent.GetProperty("providerMessageId").GetString());
        var tries = _received.Where(d => d.WebhookId == id).ToList();
        Assert.Equal(3, tries.Count);
        foreach (var delivery in tries)
        {
            var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{id}.{delivery.Timestamp}.{delivery.Body}")));
            Assert.Equal(expected, delivery.Signature);
        }

        // Base 300 ms with 20 % jitter: the first wait is 240-360 ms, the second 480-720 ms.
        var firstWait = tries[1].ElapsedMs - tries[0].ElapsedMs;
        var secondWait = tries[2].ElapsedMs - tries[1].ElapsedMs;
        Assert.InRange(firstWait, 200, 2_000);
        Assert.True(secondWait > firstWait, $"The second wait ({secondWait} ms) should be longer than the first ({firstWait} ms).");
    }

    [Fact]
    public async Task A_message_whose_retries_run_out_lands_in_the_dead_letter_list_and_can_be_sent_again()
    {
        var admin = Host.Admin();
        var instance = await WebhookInstanceAsync(admin, "down");
        var id = (await QueueAsync(admin, instance, new { recipient = "ops@example.com", text = "Order 1001 paid" })).GetProperty("id").GetString()!;

        var dead = await WaitForStatusAsync(admin, instance, id, "dead");
        Assert.Equal(3, dead.GetProperty("attempts").GetInt32());
        Assert.Equal("HTTP 500", dead.GetProperty("lastError").GetString());
        var letters = await admin.GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/dead-letters");
        Assert.Equal(id, Assert.Single(letters.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(3, _received.Count(d => d.WebhookId == id));

        _downHealed = true;
        using var retry = await admin.PostAsync($"/api/connector-instances/{instance}/messages/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var sent = await WaitForStatusAsync(admin, instance, id, "sent");
        Assert.Equal(1, sent.GetProperty("attempts").GetInt32());
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/dead-letters")).GetProperty("items").EnumerateArray());

        using var again = await admin.PostAsync($"/api/connector-instances/{instance}/messages/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("only dead letters", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_message_the_receiver_refuses_for_good_is_rejected_without_retries()
    {
        var instance = await WebhookInstanceAsync(Host.Admin(), "gone");
        var id = (await QueueAsync(Host.Admin(), instance, new { recipient = "x@example.com", text = "t" })).GetProperty("id").GetString()!;
        var rejected = await WaitForStatusAsync(Host.Admin(), instance, id, "rejected");
        Assert.Equal(1, rejected.GetProperty("attempts").GetInt32());
        Assert.Equal("HTTP 410", rejected.GetProperty("lastError").GetString());
        await Task.Delay(700);
        Assert.Equal(1, _received.Count(d => d.WebhookId == id));
    }

    [Fact]
    public async Task The_same_idempotency_key_queues_one_message_and_it_is_sent_once()
    {
        var instance = await WebhookInstanceAsync(Host.Admin(), "ok");
        var body = new { recipient = "jane@example.com", text = "Welcome", idempotencyKey = "welcome-jane" };
        var first = await QueueAsync(Host.Admin(), instance, body);
        var second = await QueueAsync(Host.Admin(), instance, body);
        var id = first.GetProperty("id").GetString()!;
        Assert.Equal(id, second.GetProperty("id").GetString());
        Assert.Equal("welcome-jane", second.GetProperty("idempotencyKey").GetString());

        await WaitForStatusAsync(Host.Admin(), instance, id, "sent");
        var third = await QueueAsync(Host.Admin(), instance, body);
        Assert.Equal(id, third.GetProperty("id").GetString());
        Assert.Equal("sent", third.GetProperty("status").GetString());
        await Task.Delay(500);
        Assert.Single(_received, d => d.WebhookId == id);
    }

    [Fact]
    public async Task Templates_are_rendered_with_the_data_and_the_customers_profile()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("templates-" + Guid.NewGuid().ToString("N")[..8]);
        await Host.SendOkAsync("/v1/identify", """{"userId":"tpl-ann","traits":{"email":"ann@example.com","firstName":"Ann <3"}}""", writeKey);
        await Host.DrainAsync();
        var customerId = await Host.FindCustomerAsync("userId=tpl-ann", admin);
        Assert.NotNull(customerId);

        var instance = await WebhookInstanceAsync(admin, "ok");
        var id = (await QueueAsync(admin, instance, new
        {
            recipient = "{{ignored}}ann@example.com",
            subject = "{{customer.traits.firstName}}, your {{discount}}% code",
            text = "Hi {{customer.traits.firstName}}, use {{code}}.",
            html = "<p>Hi {{customer.traits.firstName}}, use <b>{{code}}</b>.{{#if vip}} VIP!{{/if}}</p>",
            data = new { discount = 30, code = "BF-30", vip = true },
            customerId,
        })).GetProperty("id").GetString()!;

        await WaitForStatusAsync(admin, instance, id, "sent");
        var payload = JsonDocument.Parse(_received.Single(d => d.WebhookId == id).Body).RootElement;
        Assert.Equal("Ann <3, your 30% code", payload.GetProperty("subject").GetString());
        Assert.Equal("Hi Ann <3, use BF-30.", payload.GetProperty("text").GetString());
        Assert.Equal("<p>Hi Ann &lt;3, use <b>BF-30</b>. VIP!</p>", payload.GetProperty("html").GetString());
        Assert.Equal("{{ignored}}ann@example.com", payload.GetProperty("recipient").GetString());
    }

    [Fact]
    public async Task Bad_messages_get_clear_400s_and_nothing_is_queued()
    {
        var admin = Host.Admin();
        var instance = await WebhookInstanceAsync(admin, "ok");
        await AssertBadRequestAsync(admin, instance, new { text = "no recipient" }, "'recipient' is required");
        await AssertBadRequestAsync(admin, instance, new { recipient = "a@example.com" }, "'text' or an 'html' body");
        await AssertBadRequestAsync(admin, instance, new { recipient = "a@example.com", text = "{{#if x}}never closed" }, "not valid Handlebars");
        await AssertBadRequestAsync(admin, instance, new { recipient = "a@example.com", text = "t", data = new[] { 1, 2 } }, "'data' must be a JSON object");
        await AssertBadRequestAsync(admin, instance, new { recipient = "a@example.com", text = "t", customerId = "cus_missing" }, "No customer");
        await AssertBadRequestAsync(admin, instance, new { recipient = "a@example.com", text = "t", idempotencyKey = new string('k', 201) }, "'idempotencyKey'");

        using var platform = await admin.PostAsJsonAsync("/api/connector-instances", new { connectorId = "test-platform", name = "p", settings = new { secret = "s" } });
        var platformId = (await platform.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await AssertBadRequestAsync(admin, platformId, new { recipient = "a@example.com", text = "t" }, "not a channel connector");

        using var badStatus = await admin.GetAsync($"/api/connector-instances/{instance}/messages?status=lost");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        using var badCursor = await admin.GetAsync($"/api/connector-instances/{instance}/messages?cursor=zzz");
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        var all = await admin.GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/messages");
        Assert.Empty(all.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Another_workspace_can_neither_send_through_nor_read_nor_retry_an_instances_messages()
    {
        var instance = await WebhookInstanceAsync(Host.Admin(), "down");
        var id = (await QueueAsync(Host.Admin(), instance, new { recipient = "x@example.com", text = "t" })).GetProperty("id").GetString()!;
        var (_, other, _) = await Host.CreateWorkspaceAsync("intruder-" + Guid.NewGuid().ToString("N")[..8]);

        using var send = await other.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", new { recipient = "x@example.com", text = "t" });
        Assert.Equal(HttpStatusCode.NotFound, send.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/connector-instances/{instance}/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/connector-instances/{instance}/dead-letters")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/connector-instances/{instance}/messages/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/connector-instances/{instance}/messages/{id}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Client.GetAsync($"/api/connector-instances/{instance}/messages")).StatusCode);
    }

    private Task<string> WebhookInstanceAsync(HttpClient admin, string path) =>
        ConnectorInstances.CreateWebhookAsync(admin, $"http://127.0.0.1:{_port}/{path}", _key, "hook-" + path);

    private static async Task<JsonElement> QueueAsync(HttpClient client, string instance, object body)
    {
        using var response = await client.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"Queueing answered {(int)response.StatusCode}: {json}");
        return json;
    }

    private static async Task AssertBadRequestAsync(HttpClient client, string instance, object body, string expected)
    {
        using var response = await client.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    private static Task<JsonElement> WaitForStatusAsync(HttpClient client, string instance, string id, string status) =>
        Eventually.UntilAsync(
            () => client.GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/messages/{id}"),
            message => message.GetProperty("status").GetString() == status,
            TimeSpan.FromSeconds(30),
            message => $"The message stayed {message.GetProperty("status").GetString()} instead of becoming {status}: {message}");
}
