using Microsoft.Extensions.Logging.Abstractions;
using Modulith.Customers.Directory;
using Modulith.Customers.Profiles;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>The customer search projection on a real PostgreSQL server.</summary>
public sealed class CustomerDirectoryOnPostgresTests
{
    [Fact]
    public async Task Concurrent_updates_of_the_same_customers_in_opposite_orders_all_commit()
    {
        var database = new Database(new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = await Postgres.CreateDatabaseAsync() });
        await using var _ = database;
        await new SchemaMigrator(database, [new CustomerDirectorySchema()], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        var store = new CustomerDirectoryStore(database);
        var customers = Enumerable.Range(0, 2_000).Select(i => $"cus_{i:D5}").ToList();
        List<CustomerListEntry> Entries(IEnumerable<string> ids, string writer) =>
            [.. ids.Select(id => new CustomerListEntry(id, null, $"{id}@example.com", null, writer, DateTimeOffset.UtcNow, null))];
        var updates = Enumerable.Range(0, 8).Select(n => Entries(n % 2 == 0 ? customers : Enumerable.Reverse(customers), "writer-" + n)).ToList();

        // Connections opened beforehand, so that the updates below start together.
        await Task.WhenAll(Enumerable.Range(0, updates.Count).Select(n => store.UpsertAsync("ws", Entries([$"warm-{n}"], "warm"), CancellationToken.None)));
        using var start = new Barrier(updates.Count);
        await Task.WhenAll(updates.Select(entries => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return store.UpsertAsync("ws", entries, CancellationToken.None);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()));

        Assert.Equal(customers.Count + updates.Count, await store.CountAsync("ws", CancellationToken.None));
    }
}
