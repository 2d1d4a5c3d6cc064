using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// The embedded database's write-ahead log is folded into the database file by the host's checkpointer, within about
/// a tenth of a second, not by the writers after their commits (docs/adr/0009).
/// </summary>
public sealed class SqliteCheckpointTests
{
    [Fact]
    public async Task Committed_pages_reach_the_database_file_within_seconds_though_no_writer_checkpoints()
    {
        await using var host = TestHost.StartSqlite();
        var database = host.Services.GetRequiredService<Database>();
        var file = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        const int bytes = 2 * 1024 * 1024;
        await using (var connection = await database.OpenForWriteAsync())
        {
            await using var command = connection.CreateCommand();
            // Fewer pages than SQLite's default automatic checkpoint (1,000), so only the checkpointer can move them.
            command.CommandText = $"CREATE TABLE checkpoint_probe (data BLOB); INSERT INTO checkpoint_probe VALUES (randomblob({bytes}));";
            await command.ExecuteNonQueryAsync();
        }

        var sizeAtCommit = new FileInfo(file).Length;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (new FileInfo(file).Length < sizeAtCommit + bytes && waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }

        Assert.True(new FileInfo(file).Length >= sizeAtCommit + bytes,
            $"The database file grew from {sizeAtCommit} to only {new FileInfo(file).Length} bytes in {waited.Elapsed.TotalSeconds:N0} s.");
    }

    [Fact]
    public async Task The_log_stops_growing_at_its_restart_size_though_readers_never_leave_it()
    {
        await using var host = TestHost.StartSqlite(settings: new Dictionary<string, string?> { ["Modulith:Storage:WalRestartMegabytes"] = "2" });
        var database = host.Services.GetRequiredService<Database>();
        var log = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource + "-wal";
        await using (var connection = await database.OpenForWriteAsync())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE restart_probe (data BLOB)";
            await command.ExecuteNonQueryAsync();
        }

        using var stop = new CancellationTokenSource();
        // Two readers that take turns, so that some read transaction is always open: SQLite itself then never restarts the log.
        async Task ReadAsync(int offsetMs)
        {
            await Task.Delay(offsetMs);
            while (!stop.IsCancellationRequested)
            {
                await using var connection = (SqliteConnection)await database.OpenAsync();
                await using var transaction = connection.BeginTransaction(deferred: true);
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "SELECT COUNT(*) FROM restart_probe";
                await command.ExecuteScalarAsync();
                await Task.Delay(20);
            }
        }

        var readers = new[] { ReadAsync(0), ReadAsync(10) };
        const int megabytesWritten = 60;
        long largestLog = 0;
        for (var i = 0; i < megabytesWritten * 8; i++)
        {
            await using (var connection = await database.OpenForWriteAsync())
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "INSERT INTO restart_probe VALUES (randomblob(131072))";
                await command.ExecuteNonQueryAsync();
            }

            largestLog = Math.Max(largestLog, new FileInfo(log).Length);
            await Task.Delay(5);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(largestLog < megabytesWritten / 3 * 1024 * 1024, $"The log grew to {largestLog / 1024 / 1024} MB while {megabytesWritten} MB were written.");
    }
}
