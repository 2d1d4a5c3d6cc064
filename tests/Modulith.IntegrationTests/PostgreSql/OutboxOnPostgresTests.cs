using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modulith.IntegrationTests.Connectors;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>The outbox on PostgreSQL: two silos dispatch from one table and every message reaches the receiver exactly once.</summary>
public sealed class OutboxOnPostgresTests
{
    [Fact]
    public async Task Two_silos_share_the_outbox_and_each_message_is_delivered_once()
    {
        var received = new ConcurrentDictionary<string, int>();
        var (receiver, port) = await LoopbackServer.StartAsync(app => app.MapPost("/hook", async (HttpContext context) =>
        {
            await Task.Delay(20);
            received.AddOrUpdate(context.Request.Headers["webhook-id"].ToString(), 1, (_, n) => n + 1);
            return Results.Ok();
        }));
        await using var _ = receiver;

        var database = await Postgres.CreateDatabaseAsync();
        var settings = TestHost.KeySettingsWithChannels("pg_outbox", "00:00:00.050");
        await using var first = TestHost.StartPostgres(database, "pg-outbox", settings);
        await using var second = TestHost.StartPostgres(database, "pg-outbox", settings);

        var instance = await ConnectorInstances.CreateWebhookAsync(first.Admin(), $"http://127.0.0.1:{port}/hook", RandomNumberGenerator.GetBytes(32), "orders");

        var ids = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var host = i % 2 == 0 ? first : second;
            using var queued = await host.Admin().PostAsJsonAsync($"/api/connector-instances/{instance}/messages", new { recipient = $"r{i}@example.com", text = $"message {i}", idempotencyKey = $"k-{i}" });
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
            ids.Add((await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }

        await Eventually.UntilAsync(
            () => first.Admin().GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/messages?status=sent&limit=500"),
            page => page.GetProperty("items").GetArrayLength() == ids.Count,
            TimeSpan.FromSeconds(60),
            page => $"Only {page.GetProperty("items").GetArrayLength()} of {ids.Count} messages were sent within 60 s.");

        Assert.Equal(ids.Order(StringComparer.Ordinal), received.Keys.Order(StringComparer.Ordinal));
        Assert.All(received.Values, count => Assert.Equal(1, count));
    }
}
