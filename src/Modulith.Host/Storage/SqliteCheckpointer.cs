using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Storage;

/// <summary>
/// Folds the embedded database's write-ahead log into the database file ten times a second, in the background
/// (docs/adr/0009). The platform's connections never checkpoint after their own commits, so no writer a client or a grain
/// is waiting on pays for copying pages and syncing files; and what was committed reaches a synced file within about a
/// tenth of a second, however little was written.
/// </summary>
internal sealed partial class SqliteCheckpointer(Database database, TimeProvider clock, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    /// <summary>How often the log is checkpointed.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckpointAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }

        await CheckpointAsync();
    }

    private async Task CheckpointAsync()
    {
        try
        {
            await using var connection = await database.OpenAsync();
            await using var command = connection.CreateCommand();
            // PASSIVE copies what no reader still needs and waits for no one; the rest goes in a later round.
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception exception)
        {
            LogCheckpointFailed(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpointing the embedded database's write-ahead log failed; retrying in the next round")]
    private partial void LogCheckpointFailed(Exception exception);
}
