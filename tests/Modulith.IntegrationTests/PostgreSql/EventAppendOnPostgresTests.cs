using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Modulith.Ingestion.EventLog;
using Modulith.Ingestion.Segment;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;
using Npgsql;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>
/// Appending to the event log on a real PostgreSQL server: new rows go in by COPY, and message ids already in the log are
/// still skipped, also when concurrent appends carry the same ids in different orders.
/// </summary>
public sealed class EventAppendOnPostgresTests
{
    private const string Workspace = "ws-append";

    [Fact]
    public async Task Appending_events_already_in_the_log_keeps_the_first_row_of_each_and_adds_the_new_ones()
    {
        await using var database = await DatabaseAsync();
        var store = new EventLogStore(database, TimeProvider.System);

        var first = await store.AppendAsync(Rows(["a1", "a2", "a3"], "first"), CancellationToken.None);
        var again = await store.AppendAsync(Rows(["a3", "b1", "b2"], "second"), CancellationToken.None);
        var onlyNew = await store.AppendAsync(Rows(["c1"], "third"), CancellationToken.None);
        var onlyOld = await store.AppendAsync(Rows(["a1", "c1"], "fourth"), CancellationToken.None);

        Assert.Equal([PartitionOf("first")], first.ToArray());
        Assert.Equal([PartitionOf("second")], again.ToArray());
        Assert.Equal([PartitionOf("third")], onlyNew.ToArray());
        Assert.Empty(onlyOld);
        var stored = await StoredAsync(database);
        Assert.Equal(["a1", "a2", "a3", "b1", "b2", "c1"], stored.Keys.Order());
        Assert.Equal("first", stored["a3"]);
        Assert.Equal("second", stored["b1"]);
        Assert.Equal("third", stored["c1"]);
    }

    [Fact]
    public async Task A_commit_that_repeats_a_message_id_stores_it_once()
    {
        await using var database = await DatabaseAsync();
        var store = new EventLogStore(database, TimeProvider.System);

        await store.AppendAsync([.. Rows(["d1", "d2"], "one"), .. Rows(["d2", "d3"], "two")], CancellationToken.None);

        var stored = await StoredAsync(database);
        Assert.Equal(["d1", "d2", "d3"], stored.Keys.Order());
        Assert.Equal("one", stored["d2"]);
    }

    [Fact]
    public async Task Concurrent_appends_of_the_same_message_ids_in_opposite_orders_all_commit_and_store_each_id_once()
    {
        await using var database = await DatabaseAsync();
        var store = new EventLogStore(database, TimeProvider.System);
        var shared = Enumerable.Range(0, 5_000).Select(i => $"shared-{i:D4}").ToList();

        var appends = Enumerable.Range(0, 8)
            .Select(n => Rows([.. n % 2 == 0 ? shared : Enumerable.Reverse(shared), $"own-{n}"], "append-" + n))
            .ToList();

        // Connections opened beforehand, so that the appends below start together instead of one connection at a time.
        await Task.WhenAll(Enumerable.Range(0, appends.Count).Select(n => store.AppendAsync(Rows([$"warm-{n}"], "warm"), CancellationToken.None)));

        // Each append holds the unique-index entries it wrote until it commits; in opposite orders they wait on each other.
        using var start = new Barrier(appends.Count);
        await Task.WhenAll(appends.Select(rows => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return store.AppendAsync(rows, CancellationToken.None);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()));

        var stored = await StoredAsync(database);
        Assert.Equal(shared.Count + 8 + appends.Count, stored.Count);
        Assert.All(Enumerable.Range(0, 8), n => Assert.Equal("append-" + n, stored[$"own-{n}"]));
    }

    [Fact]
    public async Task Copied_rows_hold_exactly_what_was_appended_in_every_column()
    {
        await using var database = await DatabaseAsync();
        var store = new EventLogStore(database, TimeProvider.System);
        var big = new string('é', 9_000);
        var messages = new List<string>
        {
            """{"type":"track","event":"Zamówienie złożone 🛒","userId":"użytkownik-1","anonymousId":"anon-ü","messageId":"m-text","timestamp":"2026-11-20T10:00:00.123Z","properties":{"note":"line\nbreak \"quoted\" \\ tab\t"}}""",
            """{"type":"page","anonymousId":"anon-only","messageId":"m-nulls"}""",
            """{"type":"alias","userId":"new-id","previousId":"old-id","messageId":"m-alias"}""",
        };
        // Big payloads carry the rows across the 64 KB chunks the encoder sends.
        messages.AddRange(Enumerable.Range(0, 25).Select(i => $$$"""{"type":"identify","userId":"big-{{{i}}}","messageId":"m-big-{{{i}}}","traits":{"bio":"{{{big}}}"}}"""));
        var normalized = SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes($$"""{"batch":[{{string.Join(',', messages)}}]}"""), DateTimeOffset.UtcNow);
        Assert.Null(normalized.Error);

        await store.AppendAsync(normalized.Events.Select(e => new PendingAppend(Workspace, e)).ToList(), CancellationToken.None);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload FROM events WHERE workspace_id = @ws", connection);
        command.Parameters.AddWithValue("ws", Workspace);
        var stored = new Dictionary<string, object?[]>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var values = new object[reader.FieldCount];
                reader.GetValues(values);
                stored[reader.GetString(0)] = [.. values.Select(v => v is DBNull ? null : v)];
            }
        }

        Assert.Equal(normalized.Events.Count, stored.Count);
        foreach (var e in normalized.Events)
        {
            object?[] expected = [e.MessageId, e.Partition(Workspace), e.Type, e.Name, e.UserId, e.AnonymousId, e.PreviousId,
                e.Timestamp.ToUnixTimeMilliseconds(), e.ReceivedAt.ToUnixTimeMilliseconds(), e.Payload];
            Assert.Equal(expected, stored[e.MessageId]);
        }

        Assert.Equal("Zamówienie złożone 🛒", stored["m-text"][3]);
        Assert.Null(stored["m-nulls"][4]);
    }

    private static async Task<Database> DatabaseAsync()
    {
        var database = new Database(new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = await Postgres.CreateDatabaseAsync() });
        await new SchemaMigrator(database, [new EventLogSchema()], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        return database;
    }

    // Each event's anonymousId names its append, so the stored row tells which append wrote it.
    private static List<PendingAppend> Rows(IEnumerable<string> messageIds, string writer) =>
        messageIds.Chunk(500).SelectMany(chunk =>
        {
            var batch = string.Join(',', chunk.Select(id =>
                $$"""{"type":"track","event":"Product Viewed","messageId":"{{id}}","anonymousId":"{{writer}}","timestamp":"2026-11-20T10:00:00Z"}"""));
            var normalized = SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes($$"""{"batch":[{{batch}}]}"""), DateTimeOffset.UtcNow);
            Assert.Null(normalized.Error);
            return normalized.Events.Select(e => new PendingAppend(Workspace, e));
        }).ToList();

    private static int PartitionOf(string writer) => Rows(["any"], writer)[0].Event.Partition(Workspace);

    private static async Task<Dictionary<string, string>> StoredAsync(Database database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT message_id, anonymous_id FROM events WHERE workspace_id = @ws", connection);
        command.Parameters.AddWithValue("ws", Workspace);
        await using var reader = await command.ExecuteReaderAsync();
        var stored = new Dictionary<string, string>();
        while (await reader.ReadAsync())
        {
            Assert.True(stored.TryAdd(reader.GetString(0), reader.GetString(1)), "a message id is stored twice");
        }

        return stored;
    }
}
