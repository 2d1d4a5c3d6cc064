using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;
using Orleans.Storage;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// The batched grain storage writes the rows Orleans' ADO.NET provider reads, with the same keys, hashes and version
/// checks, in both storage modes.
/// </summary>
public sealed class BatchedGrainStorageTests
{
    public sealed class Probe
    {
        public string? Text { get; set; }

        public int Number { get; set; }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Batched_writes_are_read_back_by_the_ADO_NET_provider_with_its_own_row_hashes(string mode)
    {
        await using var host = await StartAsync(mode);
        var (batched, adoNet) = Storages(host);

        var viaProvider = new GrainState<Probe>(new Probe { Text = "provider", Number = 1 });
        var key = GrainId.Create("customer", "shop-a/probe-1");
        await adoNet.WriteStateAsync("customer", key, viaProvider);
        var providerHashes = await HashesAsync(host, "shop-a/probe-1");
        await ExecuteAsync(host, "DELETE FROM OrleansStorage WHERE GrainIdExtensionString = 'shop-a/probe-1'");

        var viaBatch = new GrainState<Probe>(new Probe { Text = "batched", Number = 2 });
        await batched.WriteStateAsync("customer", key, viaBatch);
        Assert.Equal("1", viaBatch.ETag);
        Assert.True(viaBatch.RecordExists);
        Assert.Equal(providerHashes, await HashesAsync(host, "shop-a/probe-1"));

        viaBatch.State!.Number = 3;
        await batched.WriteStateAsync("customer", key, viaBatch);
        Assert.Equal("2", viaBatch.ETag);

        var read = new GrainState<Probe>();
        await adoNet.ReadStateAsync("customer", key, read);
        Assert.Equal("batched", read.State!.Text);
        Assert.Equal(3, read.State.Number);
        Assert.Equal("2", read.ETag);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_stale_version_fails_only_its_own_write_and_changes_nothing(string mode)
    {
        await using var host = await StartAsync(mode);
        var (batched, adoNet) = Storages(host);
        var key = GrainId.Create("lead", "shop-a/stale");
        var current = new GrainState<Probe>(new Probe { Text = "first" });
        await batched.WriteStateAsync("lead", key, current);
        await batched.WriteStateAsync("lead", key, current);

        var stale = new GrainState<Probe>(new Probe { Text = "stale" }) { ETag = "1" };
        var fresh = new GrainState<Probe>(new Probe { Text = "other" });
        var writes = new[]
        {
            batched.WriteStateAsync("lead", key, stale),
            batched.WriteStateAsync("lead", GrainId.Create("lead", "shop-a/fresh"), fresh),
            batched.WriteStateAsync("lead", GrainId.Create("lead", "shop-a/stale"), new GrainState<Probe>(new Probe { Text = "duplicate activation" })),
        };
        await Assert.ThrowsAsync<InconsistentStateException>(() => writes[0]);
        await writes[1];
        await Assert.ThrowsAsync<InconsistentStateException>(() => writes[2]);

        var read = new GrainState<Probe>();
        await adoNet.ReadStateAsync("lead", key, read);
        Assert.Equal("first", read.State!.Text);
        Assert.Equal("2", read.ETag);
        await adoNet.ReadStateAsync("lead", GrainId.Create("lead", "shop-a/fresh"), read);
        Assert.Equal("other", read.State.Text);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Concurrent_writes_of_many_grains_are_all_stored(string mode)
    {
        await using var host = await StartAsync(mode);
        var (batched, adoNet) = Storages(host);
        var states = Enumerable.Range(0, 500).Select(i => new GrainState<Probe>(new Probe { Number = i })).ToList();
        await Task.WhenAll(states.Select((state, i) => batched.WriteStateAsync("identity", GrainId.Create("identity", $"shop-a/many-{i}"), state)));
        await Task.WhenAll(states.Select((state, i) =>
        {
            state.State!.Number += 1_000;
            return batched.WriteStateAsync("identity", GrainId.Create("identity", $"shop-a/many-{i}"), state);
        }));

        for (var i = 0; i < states.Count; i += 37)
        {
            var read = new GrainState<Probe>();
            await adoNet.ReadStateAsync("identity", GrainId.Create("identity", $"shop-a/many-{i}"), read);
            Assert.Equal(1_000 + i, read.State!.Number);
            Assert.Equal("2", read.ETag);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_large_state_is_stored_compressed_and_a_small_one_as_readable_JSON(string mode)
    {
        await using var host = await StartAsync(mode);
        var (batched, adoNet) = Storages(host);
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => $"page-view-{i};"));
        await batched.WriteStateAsync("lead", GrainId.Create("lead", "shop-a/large"), new GrainState<Probe>(new Probe { Text = text, Number = 7 }));
        await adoNet.WriteStateAsync("lead", GrainId.Create("lead", "shop-a/large-via-provider"), new GrainState<Probe>(new Probe { Text = text, Number = 8 }));
        await batched.WriteStateAsync("lead", GrainId.Create("lead", "shop-a/small"), new GrainState<Probe>(new Probe { Text = "short", Number = 9 }));

        foreach (var (key, number) in new[] { ("shop-a/large", 7), ("shop-a/large-via-provider", 8) })
        {
            var stored = await PayloadAsync(host, key);
            Assert.Equal(0x78, stored[0]);
            Assert.True(stored.Length < text.Length / 2, $"{key} is stored in {stored.Length} bytes for {text.Length} characters of text.");
            var read = new GrainState<Probe>();
            await adoNet.ReadStateAsync("lead", GrainId.Create("lead", key), read);
            Assert.Equal(text, read.State!.Text);
            Assert.Equal(number, read.State.Number);
        }

        Assert.Equal("{\"text\":\"short\",\"number\":9}", System.Text.Encoding.UTF8.GetString(await PayloadAsync(host, "shop-a/small")));
    }

    private static async Task<TestHost> StartAsync(string mode) =>
        mode == "sqlite" ? TestHost.StartSqlite() : TestHost.StartPostgres(await Postgres.CreateDatabaseAsync(), "batched-" + Guid.NewGuid().ToString("N")[..8]);

    private static (IGrainStorage Batched, IGrainStorage AdoNet) Storages(TestHost host) =>
        (host.Services.GetRequiredKeyedService<IGrainStorage>("customers"), host.Services.GetRequiredKeyedService<IGrainStorage>("customers.adonet"));

    private static async Task<(long, long)> HashesAsync(TestHost host, string key)
    {
        await using var connection = await host.Services.GetRequiredService<Database>().OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT GrainIdHash, GrainTypeHash FROM OrleansStorage WHERE GrainIdExtensionString = '{key}'";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (Convert.ToInt64(reader.GetValue(0)), Convert.ToInt64(reader.GetValue(1)));
    }

    private static async Task<byte[]> PayloadAsync(TestHost host, string key)
    {
        await using var connection = await host.Services.GetRequiredService<Database>().OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT PayloadBinary FROM OrleansStorage WHERE GrainIdExtensionString = '{key}'";
        return (byte[])(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(TestHost host, string sql)
    {
        await using var connection = await host.Services.GetRequiredService<Database>().OpenAsync();
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
