using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>The outbox across a restart of the host, through the real webhook plugin and a receiver on loopback.</summary>
public sealed class OutboxRestartTests
{
    [Fact]
    public async Task A_message_whose_send_the_stopping_host_cut_off_is_sent_right_after_the_restart_not_after_its_lease()
    {
        var deliveries = new ConcurrentQueue<string>();
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (receiver, port) = await LoopbackServer.StartAsync(app => app.MapPost("/hook", async (HttpContext context) =>
        {
            deliveries.Enqueue(context.Request.Headers["webhook-id"].ToString());
            if (firstArrived.TrySetResult())
            {
                // The first delivery is still being received when the host stops.
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            return Results.Ok();
        }));
        await using var _ = receiver;
        var data = Scratch.NewDirectory("outbox");
        var settings = TestHost.KeySettingsWithChannels("outbox");

        string instance, id;
        await using (var host = TestHost.StartSqlite(data, settings))
        {
            var admin = host.Admin();
            instance = await ConnectorInstances.CreateWebhookAsync(admin, $"http://127.0.0.1:{port}/hook", RandomNumberGenerator.GetBytes(32), "hook");
            using var queued = await admin.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", new { recipient = "lead-events", text = "Reminder" });
            id = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }

        // The claim's lease is two minutes: without the hand-back the restarted host would wait it out.
        await using var restarted = TestHost.StartSqlite(data, settings);
        var sent = await Eventually.UntilAsync(
            () => restarted.Admin().GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/messages/{id}"),
            message => message.GetProperty("status").GetString() == "sent",
            TimeSpan.FromSeconds(20),
            message => $"The message stayed {message.GetProperty("status").GetString()}: {message}");
        Assert.Equal(id, sent.GetProperty("id").GetString());
        Assert.Equal([id, id], deliveries.ToArray());
    }
}
