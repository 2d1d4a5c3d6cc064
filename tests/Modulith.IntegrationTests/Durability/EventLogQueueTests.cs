using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Modulith.Ingestion.EventLog;
using Modulith.Ingestion.Segment;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;
using Npgsql;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// The event log's rows stay as written: an appended event waits in its partition's queue, and dispatching it moves it
/// from the queue onto its customer's timeline without rewriting the row (ADR 0016). A log written by the schema before
/// keeps what waited and what was attributed. On both storage modes.
/// </summary>
public sealed class EventLogQueueTests
{
    private const string Workspace = "ws-queue";

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_dispatched_event_leaves_its_partitions_queue_and_joins_its_customers_timeline_with_its_row_as_written(string mode)
    {
        await using var database = await DatabaseAsync(mode, new EventLogSchema().Scripts);
        var store = new EventLogStore(database, TimeProvider.System);

        // Three events of one visitor (one partition) and one of another.
        await store.AppendAsync(Rows("visitor-a", ["a1", "a2", "a3"]), CancellationToken.None);
        await store.AppendAsync(Rows("visitor-b", ["b1"]), CancellationToken.None);
        var partition = Rows("visitor-a", ["x"])[0].Event.Partition(Workspace);
        var pending = await store.ReadPendingAsync(partition, 10, CancellationToken.None);
        Assert.Equal(["a1", "a2", "a3"], pending.Select(e => e.MessageId));
        Assert.Equal(4, await store.CountPendingAsync(CancellationToken.None));
        var versionsBefore = await RowVersionsAsync(database);

        // The first two applied (the second to no customer, as an erased event is), the third not yet.
        await store.MarkDispatchedAsync(partition, [(pending[0], "customer-a"), (pending[1], null)], CancellationToken.None);

        Assert.Equal(["a3"], (await store.ReadPendingAsync(partition, 10, CancellationToken.None)).Select(e => e.MessageId));
        Assert.Equal(2, await store.CountPendingAsync(CancellationToken.None));
        var (timeline, _) = await store.ReadTimelineAsync(Workspace, ["customer-a"], null, 10, CancellationToken.None);
        Assert.Equal(["a1"], timeline.Select(e => e.MessageId));
        Assert.Equal(pending[0].Payload, timeline[0].Payload);
        Assert.Equal(["a1"], (await store.ReadCustomerEventsAsync(Workspace, "customer-a", 0, CancellationToken.None)).Select(e => e.MessageId));
        Assert.Equal(versionsBefore, await RowVersionsAsync(database));

        // A drain redelivered after a crash marks the same events again: nothing changes.
        await store.MarkDispatchedAsync(partition, [(pending[0], "customer-a"), (pending[1], null)], CancellationToken.None);
        Assert.Single((await store.ReadTimelineAsync(Workspace, ["customer-a"], null, 10, CancellationToken.None)).Events);
        Assert.Equal(2, await store.CountPendingAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_log_written_before_the_queue_existed_keeps_its_waiting_events_pending_and_its_applied_events_on_their_timelines(string mode)
    {
        var scripts = new EventLogSchema().Scripts.ToList();
        await using var database = await DatabaseAsync(mode, scripts.Where(s => s.Version <= 2));
        await using (var connection = await database.OpenForWriteAsync())
        {
            // As version 2 stored them: waiting (0), applied to a customer (1), applied to no one (1), parked (2).
            foreach (var (messageId, dispatched, customerId) in new[] { ("old-1", 1, "customer-old"), ("old-2", 0, null), ("old-3", 1, null), ("old-4", 2, null) })
            {
                await using var insert = connection.Command(
                    "INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload, customer_id, dispatched) " +
                    "VALUES (@ws, @m, 3, 'track', 'Product Viewed', NULL, 'old-visitor', NULL, 1000, 1000, '{}', @c, @d)")
                    .With("ws", Workspace).With("m", messageId).With("c", customerId).With("d", dispatched);
                await insert.ExecuteNonQueryAsync();
            }
        }

        await new SchemaMigrator(database, [new Contributor(scripts)], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        var store = new EventLogStore(database, TimeProvider.System);

        Assert.Equal(["old-2"], (await store.ReadPendingAsync(3, 10, CancellationToken.None)).Select(e => e.MessageId));
        Assert.Equal(["old-1"], (await store.ReadTimelineAsync(Workspace, ["customer-old"], null, 10, CancellationToken.None)).Events.Select(e => e.MessageId));

        // Appends go on after the rows that were there, in the same sequence.
        await store.AppendAsync(Rows("new-visitor", ["new-1", "new-2"]), CancellationToken.None);
        var partition = Rows("new-visitor", ["x"])[0].Event.Partition(Workspace);
        var appended = await store.ReadPendingAsync(partition, 10, CancellationToken.None);
        Assert.Equal(["new-1", "new-2"], appended.Select(e => e.MessageId).Where(id => id.StartsWith("new-", StringComparison.Ordinal)));
        Assert.All(appended, e => Assert.True(e.Sequence > 4));
        Assert.Equal(3, await store.CountPendingAsync(CancellationToken.None));
    }

    private static async Task<Database> DatabaseAsync(string mode, IEnumerable<SchemaScript> scripts)
    {
        StorageOptions options;
        if (mode == "sqlite")
        {
            options = new StorageOptions { DataDirectory = Scratch.NewDirectory("event-queue") };
            Directory.CreateDirectory(options.DataDirectory);
        }
        else
        {
            options = new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = await Postgres.CreateDatabaseAsync() };
        }

        var database = new Database(options);
        await new SchemaMigrator(database, [new Contributor(scripts)], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        return database;
    }

    // PostgreSQL writes a new version of a row whenever it is updated; the embedded database keeps no such trace, so there
    // the payloads stand in for the row.
    private static async Task<List<string>> RowVersionsAsync(Database database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.Command(connection is NpgsqlConnection
            ? "SELECT seq || ':' || xmin::text || ':' || ctid::text FROM events ORDER BY seq"
            : "SELECT seq || ':' || payload FROM events ORDER BY seq");
        var versions = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetString(0));
        }

        return versions;
    }

    private static List<PendingAppend> Rows(string anonymousId, IEnumerable<string> messageIds)
    {
        var batch = string.Join(',', messageIds.Select(id =>
            $$"""{"type":"track","event":"Product Viewed","messageId":"{{id}}","anonymousId":"{{anonymousId}}","timestamp":"2026-11-20T10:00:00Z"}"""));
        var normalized = SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes($$"""{"batch":[{{batch}}]}"""), DateTimeOffset.UtcNow);
        Assert.Null(normalized.Error);
        return normalized.Events.Select(e => new PendingAppend(Workspace, e)).ToList();
    }

    private sealed class Contributor(IEnumerable<SchemaScript> scripts) : ISchemaContributor
    {
        public IEnumerable<SchemaScript> Scripts { get; } = scripts.ToList();
    }
}
