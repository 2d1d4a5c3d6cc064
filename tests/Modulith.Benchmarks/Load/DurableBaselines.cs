using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Modulith.Ingestion.EventLog;
using Modulith.Ingestion.Segment;
using Modulith.SharedKernel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Modulith.Benchmarks.Load;

/// <summary>The durable-write baselines: the same event rows written straight into the same table definition.</summary>
public static class DurableBaselines
{
    internal static IReadOnlyList<NormalizedEvent> Rows(IReadOnlyList<(string Route, string Body, int Events)> batches)
    {
        var now = DateTimeOffset.UtcNow;
        return batches.SelectMany(b => SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes(b.Body), now).Events).ToList();
    }

    /// <summary>
    /// The median of three runs of a baseline. A single COPY of 100,000 rows takes about a second, and right after the
    /// host's run the server may still be checkpointing or vacuuming what the host wrote: one run moved by half from run
    /// to run (docs/performance.md, session 22).
    /// </summary>
    internal static async Task<(double Median, string Runs)> MedianOfThreeAsync(Func<int, Task<double>> run)
    {
        var rates = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            rates.Add(await run(i));
        }

        var runs = string.Join(" / ", rates.Select(rate => rate.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)));
        rates.Sort();
        return (rates[1], runs);
    }

    /// <summary>
    /// Binary COPY of the rows into the events table of a new database created by the product's own schema steps, so with
    /// the same indexes and, with <paramref name="withQueue"/>, the trigger that queues each row for dispatch (ADR 0016):
    /// what an append must make durable. The database is dropped afterwards. Answers rows per second.
    /// </summary>
    internal static async Task<double> PostgresCopyAsync(string serverConnectionString, IReadOnlyList<NormalizedEvent> rows, bool withQueue)
    {
        var connectionString = await CreateDatabaseAsync(serverConnectionString, "modulith_copy_");
        try
        {
            await using (var database = new Database(new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = connectionString }))
            {
                await new SchemaMigrator(database, [new EventLogSchema()], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
            }

            if (!withQueue)
            {
                await ExecuteAsync(connectionString, "DROP TRIGGER events_queue_for_dispatch ON events");
            }

            return await CopyAsync(connectionString, rows);
        }
        finally
        {
            await DropDatabaseAsync(serverConnectionString, connectionString);
        }
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, after closing this process's pooled connections to it.</summary>
    internal static async Task DropDatabaseAsync(string serverConnectionString, string databaseConnectionString)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(serverConnectionString, $"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(databaseConnectionString).Database} WITH (FORCE)");
    }

    /// <summary>Creates a new, empty database on the server, named with the prefix; answers its connection string.</summary>
    internal static async Task<string> CreateDatabaseAsync(string serverConnectionString, string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync(serverConnectionString, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<double> CopyAsync(string connectionString, IReadOnlyList<NormalizedEvent> rows)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var clock = Stopwatch.StartNew();
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var e in rows)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync("bench", NpgsqlDbType.Text);
                await writer.WriteAsync(e.MessageId, NpgsqlDbType.Text);
                await writer.WriteAsync(e.Partition("bench"), NpgsqlDbType.Integer);
                await writer.WriteAsync(e.Type, NpgsqlDbType.Text);
                await WriteNullableAsync(writer, e.Name);
                await WriteNullableAsync(writer, e.UserId);
                await WriteNullableAsync(writer, e.AnonymousId);
                await WriteNullableAsync(writer, e.PreviousId);
                await writer.WriteAsync(e.Timestamp.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint);
                await writer.WriteAsync(e.ReceivedAt.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint);
                await writer.WriteAsync(e.Payload, NpgsqlDbType.Text);
            }

            await writer.CompleteAsync();
        }

        return rows.Count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// A prepared insert loop in one transaction into a fresh SQLite file with the event log's schema as it is now (the table,
    /// its indexes and the trigger that queues each row for dispatch); answers rows per second.
    /// </summary>
    internal static async Task<double> SqliteInsertAsync(string directory, IReadOnlyList<NormalizedEvent> rows)
    {
        Directory.CreateDirectory(directory);
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "baseline.db")}");
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + string.Concat(new EventLogSchema().Scripts.Select(s => s.Sqlite));
            await pragma.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = (SqliteTransaction)transaction;
        insert.CommandText = "INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload) " +
            "VALUES ($ws, $mid, $part, $type, $name, $uid, $aid, $pid, $ts, $rcv, $payload)";
        foreach (var name in (string[])["$ws", "$mid", "$part", "$type", "$name", "$uid", "$aid", "$pid", "$ts", "$rcv", "$payload"])
        {
            insert.Parameters.Add(new SqliteParameter(name, DBNull.Value));
        }

        await insert.PrepareAsync();
        foreach (var e in rows)
        {
            var p = insert.Parameters;
            p[0].Value = "bench";
            p[1].Value = e.MessageId;
            p[2].Value = e.Partition("bench");
            p[3].Value = e.Type;
            p[4].Value = (object?)e.Name ?? DBNull.Value;
            p[5].Value = (object?)e.UserId ?? DBNull.Value;
            p[6].Value = (object?)e.AnonymousId ?? DBNull.Value;
            p[7].Value = (object?)e.PreviousId ?? DBNull.Value;
            p[8].Value = e.Timestamp.ToUnixTimeMilliseconds();
            p[9].Value = e.ReceivedAt.ToUnixTimeMilliseconds();
            p[10].Value = e.Payload;
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return rows.Count / clock.Elapsed.TotalSeconds;
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value) =>
        value is null ? writer.WriteNullAsync() : writer.WriteAsync(value, NpgsqlDbType.Text);
}
