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
}
