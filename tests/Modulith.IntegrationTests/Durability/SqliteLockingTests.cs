using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;
using SQLitePCL;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// Writers that meet the embedded database's write lock wait for it in SQLite's busy handler, which wakes them within
/// milliseconds of its release. In shared-cache mode SQLite refuses them at once instead (SQLITE_LOCKED), and
/// Microsoft.Data.Sqlite then retries only after sleeping 150 ms: that was behind dispatch stalls of 150 ms to 1.6 s.
/// </summary>
public sealed class SqliteLockingTests
{
    private const int SqliteBusy = 5;

    [Fact]
    public async Task A_writer_that_meets_the_write_lock_is_told_busy_not_refused_by_a_shared_cache_table_lock()
    {
        await using var host = TestHost.StartSqlite();
        var database = host.Services.GetRequiredService<Database>();
        await using var holder = (SqliteConnection)await database.OpenAsync();
        await using var waiter = (SqliteConnection)await database.OpenAsync();
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        await using (var noWait = waiter.CreateCommand())
        {
            noWait.CommandText = "PRAGMA busy_timeout=0";
            await noWait.ExecuteNonQueryAsync();
        }

        var code = raw.sqlite3_exec(waiter.Handle, "BEGIN IMMEDIATE");

        Assert.Equal(SqliteBusy, raw.sqlite3_extended_errcode(waiter.Handle));
        Assert.Equal(SqliteBusy, code);
        await using var rollback = holder.CreateCommand();
        rollback.CommandText = "ROLLBACK";
        await rollback.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_pooled_connection_keeps_its_settings_when_it_is_opened_again()
    {
        await using var host = TestHost.StartSqlite();
        var database = host.Services.GetRequiredService<Database>();
        sqlite3 first;
        await using (var connection = (SqliteConnection)await database.OpenAsync())
        {
            first = connection.Handle!;
            Assert.Equal((10_000L, 0L, 1L), await SettingsAsync(connection));
        }

        await using var again = (SqliteConnection)await database.OpenAsync();
        Assert.Same(first, again.Handle);
        Assert.Equal((10_000L, 0L, 1L), await SettingsAsync(again));
    }

    private static async Task<(long BusyTimeout, long AutoCheckpointPages, long Synchronous)> SettingsAsync(SqliteConnection connection)
    {
        async Task<long> PragmaAsync(string name)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA " + name;
            return (long)(await command.ExecuteScalarAsync())!;
        }

        return (await PragmaAsync("busy_timeout"), await PragmaAsync("wal_autocheckpoint"), await PragmaAsync("synchronous"));
    }
}
