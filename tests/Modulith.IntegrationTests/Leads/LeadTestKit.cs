using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Leads;

/// <summary>Scripts a visitor's behaviour through the Segment API and reads leads through the public routes.</summary>
internal static class LeadTestKit
{
    public static string Ts(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A visitor who views 3 products, subscribes to the newsletter, stays 150 s on the site and leaves an email: an MQL by the default model.</summary>
    public static async Task<string> QualifyAsMqlAsync(TestHost host, HttpClient admin, string writeKey, string visitor, DateTimeOffset? start = null, string? landing = null)
    {
        var t0 = start ?? DateTimeOffset.UtcNow.AddMinutes(-10);
        await SendAsync(host, writeKey,
            Page(visitor, t0, landing ?? "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday"),
            Track(visitor, "Product Viewed", t0.AddSeconds(20), new JsonObject { ["product_id"] = "p1" }),
            Track(visitor, "Product Viewed", t0.AddSeconds(40), new JsonObject { ["product_id"] = "p2" }),
            Track(visitor, "Product Viewed", t0.AddSeconds(60), new JsonObject { ["product_id"] = "p3" }),
            Identify(visitor, t0.AddSeconds(100), $"{visitor}@example.com"),
            Track(visitor, "Newsletter Subscribed", t0.AddSeconds(150), null));
        await host.DrainAsync();
        var id = await host.FindCustomerAsync("anonymousId=" + visitor, admin);
        Assert.NotNull(id);
        return id!;
    }

    public static async Task AddToCartAsync(TestHost host, string writeKey, string visitor)
    {
        await SendAsync(host, writeKey, Track(visitor, "Product Added", DateTimeOffset.UtcNow, new JsonObject { ["product_id"] = "p3" }));
        await host.DrainAsync();
    }

    public static JsonObject Page(string visitor, DateTimeOffset at, string url) => new()
    {
        ["type"] = "page", ["anonymousId"] = visitor, ["name"] = "Home", ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        ["context"] = new JsonObject { ["page"] = new JsonObject { ["url"] = url } },
    };

    public static JsonObject Track(string visitor, string name, DateTimeOffset at, JsonObject? properties) => new()
    {
        ["type"] = "track", ["anonymousId"] = visitor, ["event"] = name, ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(),
        ["properties"] = properties ?? new JsonObject(),
    };

    public static JsonObject Identify(string visitor, DateTimeOffset at, string email, JsonObject? traits = null)
    {
        traits ??= new JsonObject();
        traits["email"] = email;
        return new JsonObject { ["type"] = "identify", ["anonymousId"] = visitor, ["timestamp"] = Ts(at), ["messageId"] = Guid.NewGuid().ToString(), ["traits"] = traits };
    }

    public static async Task SendAsync(TestHost host, string writeKey, params JsonObject[] messages)
    {
        var batch = new JsonObject { ["batch"] = new JsonArray(messages.Select(m => (JsonNode)m).ToArray()) };
        await host.SendOkAsync("/v1/batch", batch.ToJsonString(), writeKey);
    }

    public static async Task<JsonElement> LeadAsync(HttpClient admin, string id)
    {
        using var response = await admin.GetAsync($"/api/leads/{id}");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /api/leads/{id}: {(int)response.StatusCode} {body}");
        return body;
    }

    public static async Task CreateRepAsync(HttpClient admin, object rep)
    {
        using var response = await admin.PostAsJsonAsync("/api/sales-reps", rep);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/sales-reps: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task PutAsync(HttpClient admin, string route, object body)
    {
        using var response = await admin.PutAsJsonAsync(route, body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT {route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static Task<JsonElement> WaitForLeadAsync(HttpClient admin, string id, Func<JsonElement, bool> condition, TimeSpan timeout, string what) =>
        Eventually.UntilAsync(() => LeadAsync(admin, id), condition, timeout, lead => $"{what} did not happen within {timeout.TotalSeconds:0} s: {lead}");

    /// <summary>
    /// A loopback receiver for the lead notifications the webhook channel delivers (the message's text is the lead event
    /// as JSON); what arrives is in the queue. Dispose the receiver.
    /// </summary>
    public static async Task<(IAsyncDisposable Receiver, int Port, ConcurrentQueue<LeadNotice> Notices)> StartLeadEventReceiverAsync()
    {
        var notices = new ConcurrentQueue<LeadNotice>();
        var (receiver, port) = await LoopbackServer.StartAsync(app => app.MapPost("/lead-events", async (HttpContext context) =>
        {
            var message = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
            var body = JsonDocument.Parse(message.GetProperty("text").GetString()!).RootElement;
            notices.Enqueue(new LeadNotice(body.GetProperty("type").GetString()!, body.GetProperty("leadId").GetString()!, body.GetProperty("at").GetDateTimeOffset(),
                body.GetProperty("repId").ValueKind == JsonValueKind.String ? body.GetProperty("repId").GetString() : null,
                body.GetProperty("dueAt").ValueKind == JsonValueKind.String ? body.GetProperty("dueAt").GetDateTimeOffset() : null));
            return Results.Ok();
        }));
        return (receiver, port, notices);
    }
}

/// <summary>A lead notification as a channel delivered it.</summary>
internal sealed record LeadNotice(string Type, string LeadId, DateTimeOffset At, string? RepId, DateTimeOffset? DueAt);
