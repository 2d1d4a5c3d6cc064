using Microsoft.Data.Sqlite;
using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Storage;

/// <summary>
/// Folds the embedded database's write-ahead log into the database file ten times a second, in the background
/// (docs/adr/0009). The platform's connections never checkpoint after their own commits, so no writer a client or a grain
/// is waiting on pays for copying pages and syncing files; and what was committed reaches a synced file within about a
/// tenth of a second, however little was written. Once the log holds <see cref="StorageOptions.WalRestartMegabytes"/>, the
/// checkpointer also makes the next writer start it again from the beginning, so it stops growing under a load that
/// never leaves a moment without readers.
/// </summary>
internal sealed partial class SqliteCheckpointer(Database database, StorageOptions options, TimeProvider clock, ILogger<SqliteCheckpointer> logger)
    : BackgroundService
{
    /// <summary>How often the log is checkpointed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    // A restart holds the write lock until the readers still inside the log are done; writers wait at most this long
    // for it. A restart that cannot finish in time is tried again only after the log has grown by the threshold once more,
    // so a slow reader cannot make the checkpointer hold up the writers round after round.
    private const int RestartWaitMilliseconds = 50;

    private long _nextRestartAtFrames;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        SqliteConnection? connection = null;
        long restartAtFrames = 0;
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (connection is null)
                    {
                        connection = await OpenAsync(stoppingToken);
                        restartAtFrames = await RestartThresholdInFramesAsync(connection);
                    }

                    await CheckpointAsync(connection, restartAtFrames);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogCheckpointFailed(exception);
                    await (connection?.DisposeAsync() ?? ValueTask.CompletedTask);
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            connection ??= await OpenAsync(CancellationToken.None);
            await CheckpointAsync(connection, restartAtFrames: 0);
        }
        catch (Exception exception)
        {
            LogCheckpointFailed(exception);
        }
        finally
        {
            await (connection?.DisposeAsync() ?? ValueTask.CompletedTask);
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        // Its own connection, outside the pool, so its short busy timeout never reaches a writer's connection.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout={RestartWaitMilliseconds}; PRAGMA wal_autocheckpoint=0;";
        await command.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private async Task<long> RestartThresholdInFramesAsync(SqliteConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA page_size";
        var pageSize = Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        // A frame of the log is a page and its 24-byte header.
        return Math.Max(1, options.WalRestartMegabytes * 1024L * 1024L / (pageSize + 24));
    }

    private async Task CheckpointAsync(SqliteConnection connection, long restartAtFrames)
    {
        // PASSIVE copies what no reader still needs and waits for no one; the rest goes in a later round.
        var (_, framesInLog) = await WalCheckpointAsync(connection, "PASSIVE");
        if (restartAtFrames == 0 || framesInLog < restartAtFrames)
        {
            _nextRestartAtFrames = 0;
            return;
        }

        if (framesInLog < _nextRestartAtFrames)
        {
            return;
        }

        // The log is only started again from its beginning by a writer that finds it fully copied and no reader inside
        // it. Under a steady load there is always a reader, so without a RESTART the file grows for as long as the load
        // lasts (1.2 GB in 30 s under the lead benchmark).
        // A restart keeps every writer out until it is done (30-70 ms under the lead benchmark). Holding them off first
        // makes them wait for it in the platform's queue and start the moment it ends, instead of sleeping in SQLite's
        // busy handler in growing steps (1, 2, 5, 10, 15, 20, 25 ms ...) and waking up to 25 ms after it ended.
        bool busy;
        using (await database.HoldWritersAsync())
        {
            (busy, _) = await WalCheckpointAsync(connection, "RESTART");
        }

        _nextRestartAtFrames = busy ? framesInLog + restartAtFrames : 0;
    }

    private static async Task<(bool Busy, long FramesInLog)> WalCheckpointAsync(SqliteConnection connection, string mode)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0) != 0, reader.GetInt64(1)) : (false, 0);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpointing the embedded database's write-ahead log failed; retrying in the next round")]
    private partial void LogCheckpointFailed(Exception exception);
}
