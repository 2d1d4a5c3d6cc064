using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Ingestion.Segment;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// An event that fails to apply, even on its own, is set aside (parked) instead of holding up its whole partition; it
/// stays in the log and is applied when retried. The failure here is real: a customer whose stored state is corrupt
/// cannot be activated, so every event of that customer fails.
/// </summary>
public sealed class ParkedEventTests
{
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task An_event_that_fails_on_its_own_is_parked_the_rest_of_its_partition_is_applied_and_a_retry_applies_it(string mode)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var visitor = $"park-{run}";
        var (restart, customerId, goodState) = await BreakCustomerAsync(mode, visitor);
        await using var host = restart();
        var neighbours = Enumerable.Range(0, 1_000).Select(i => $"near-{run}-{i}")
            .Where(v => SegmentNormalizer.PartitionOf("shop-a", v) == SegmentNormalizer.PartitionOf("shop-a", visitor)).Take(5).ToList();
        await host.SendOkAsync("/v1/batch", JsonSerializer.Serialize(new
        {
            batch = new object[] { new { type = "track", anonymousId = visitor, messageId = visitor + "-2", @event = "Product Viewed" } }
                .Concat(neighbours.Select(n => new { type = "track", anonymousId = n, messageId = n + "-1", @event = "Product Viewed" })),
        }));

        // Without parking, the partition retries the same failing batch for ever and this never completes.
        await host.DrainAsync().WaitAsync(DrainLimit);
        foreach (var neighbour in neighbours)
        {
            Assert.NotNull(await host.FindCustomerAsync("anonymousId=" + neighbour));
        }

        var admin = host.Admin();
        var parked = (await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/parked-events")).GetProperty("items").EnumerateArray().ToList();
        var only = Assert.Single(parked);
        Assert.Equal(visitor + "-2", only.GetProperty("messageId").GetString());
        Assert.Equal(visitor, only.GetProperty("anonymousId").GetString());
        Assert.Equal(2, only.GetProperty("attempts").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(only.GetProperty("error").GetString()));
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/status");
        Assert.Equal(0, status.GetProperty("pending").GetInt64());
        Assert.Equal(1, status.GetProperty("parked").GetInt64());

        // Another workspace neither sees nor retries them.
        var (_, otherAdmin, _) = await host.CreateWorkspaceAsync("Other shop " + run);
        Assert.Empty((await otherAdmin.GetFromJsonAsync<JsonElement>("/api/ingestion/parked-events")).GetProperty("items").EnumerateArray());
        Assert.Equal(0, (await otherAdmin.GetFromJsonAsync<JsonElement>("/api/ingestion/status")).GetProperty("parked").GetInt64());
        using (var foreign = await otherAdmin.PostAsJsonAsync("/api/ingestion/parked-events/retry", new { messageIds = new[] { visitor + "-2" } }))
        {
            Assert.Equal(0, (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requeued").GetInt32());
        }

        Assert.Equal(1, (await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/status")).GetProperty("parked").GetInt64());

        // Once the cause is repaired, a retry applies the event: nothing acknowledged was lost.
        await SetCustomerStateAsync(host, customerId, goodState);
        using (var retried = await admin.PostAsync("/api/ingestion/parked-events/retry", null))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
            Assert.Equal(1, (await retried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requeued").GetInt32());
        }

        await host.DrainAsync().WaitAsync(DrainLimit);
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/parked-events")).GetProperty("items").EnumerateArray());
        var profile = await host.ProfileAsync(customerId);
        Assert.Contains(profile.GetProperty("recentEvents").EnumerateArray(), e => e.GetProperty("messageId").GetString() == visitor + "-2");
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Erasing_a_customer_also_erases_their_parked_events_which_never_reached_the_profile(string mode)
    {
        var visitor = "park-erase-" + Guid.NewGuid().ToString("N")[..8];
        var (restart, customerId, goodState) = await BreakCustomerAsync(mode, visitor);
        await using var host = restart();
        await host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","messageId":"{{{visitor}}}-2","event":"Address Changed","properties":{"street":"Kwiatowa 7"}}""");
        await host.DrainAsync().WaitAsync(DrainLimit);
        var admin = host.Admin();
        Assert.Equal(visitor, Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/parked-events")).GetProperty("items").EnumerateArray())
            .GetProperty("anonymousId").GetString());

        await SetCustomerStateAsync(host, customerId, goodState);
        using (var erase = await admin.PostAsync($"/api/customers/{customerId}/erase", null))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
            Assert.Equal(2, (await erase.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventsErased").GetInt32());
        }

        var parked = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/parked-events")).GetProperty("items").EnumerateArray());
        Assert.Equal(visitor + "-2", parked.GetProperty("messageId").GetString());
        Assert.False(parked.TryGetProperty("anonymousId", out var anonymousId) && anonymousId.ValueKind == JsonValueKind.String);
        await using var connection = await host.Services.GetRequiredService<Database>().OpenAsync();
        await using var command = connection.Command("SELECT payload FROM events WHERE message_id = @m").With("m", visitor + "-2");
        Assert.DoesNotContain("Kwiatowa", (string)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Retrying_parked_events_validates_its_body_and_paging_its_cursor()
    {
        await using var host = TestHost.StartSqlite();
        var admin = host.Admin();
        using (var empty = await admin.PostAsJsonAsync("/api/ingestion/parked-events/retry", new { messageIds = Array.Empty<string>() }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.Equal("application/problem+json", empty.Content.Headers.ContentType?.MediaType);
        }

        using (var blank = await admin.PostAsJsonAsync("/api/ingestion/parked-events/retry", new { messageIds = new[] { " " } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/ingestion/parked-events?cursor=abc")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/ingestion/parked-events?limit=0")).StatusCode);
        using var nothing = await admin.PostAsync("/api/ingestion/parked-events/retry", null);
        Assert.Equal(0, (await nothing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requeued").GetInt32());
    }

    /// <summary>A customer identified on a first host, whose stored state is then made unreadable: their next event fails alone.</summary>
    private static async Task<(Func<TestHost> Restart, string CustomerId, byte[] GoodState)> BreakCustomerAsync(string mode, string visitor)
    {
        var (start, restart) = await HostsAsync(mode);
        await using var first = start();
        await first.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{visitor}}}","messageId":"{{{visitor}}}-1","traits":{"email":"{{{visitor}}}@example.com"}}""");
        await first.DrainAsync();
        var customerId = (await first.FindCustomerAsync("anonymousId=" + visitor))!;
        var goodState = await CustomerStateAsync(first, customerId);
        await SetCustomerStateAsync(first, customerId, [0x00, 0xFF, 0x13, 0x37]);
        return (restart, customerId, goodState);
    }

    /// <summary>Starts a host, and later the same host again on the same store with the same keys.</summary>
    private static async Task<(Func<TestHost> Start, Func<TestHost> Restart)> HostsAsync(string mode)
    {
        var keys = TestHost.KeySettings("parked");
        if (mode == "sqlite")
        {
            var directory = Scratch.NewDirectory("test");
            return (() => TestHost.StartSqlite(directory, keys), () => TestHost.StartSqlite(directory, keys));
        }

        var connectionString = await Postgres.CreateDatabaseAsync();
        var cluster = "parked-" + Guid.NewGuid().ToString("N")[..8];
        return (() => TestHost.StartPostgres(connectionString, cluster, keys), () => TestHost.StartPostgres(connectionString, cluster, keys));
    }

    private static async Task<byte[]> CustomerStateAsync(TestHost host, string customerId)
    {
        await using var connection = await host.Services.GetRequiredService<Database>().OpenAsync();
        await using var command = connection.Command(
            "SELECT PayloadBinary FROM OrleansStorage WHERE GrainIdExtensionString = @key AND GrainTypeString LIKE '%customer%'").With("key", "shop-a/" + customerId);
        return (byte[])(await command.ExecuteScalarAsync() ?? throw new InvalidOperationException("The customer's state was not stored."));
    }

    private static async Task SetCustomerStateAsync(TestHost host, string customerId, byte[] state)
    {
        await using var connection = await host.Services.GetRequiredService<Database>().OpenForWriteAsync();
        await using DbCommand command = connection.Command(
            "UPDATE OrleansStorage SET PayloadBinary = @state WHERE GrainIdExtensionString = @key AND GrainTypeString LIKE '%customer%'")
            .With("state", state).With("key", "shop-a/" + customerId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
