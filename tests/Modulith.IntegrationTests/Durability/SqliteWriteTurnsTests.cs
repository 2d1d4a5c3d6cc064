using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;

namespace Modulith.IntegrationTests.Durability;

/// <summary>On the embedded SQLite file the process's writers take turns, and ingestion's commit goes first.</summary>
public sealed class SqliteWriteTurnsTests : IAsyncDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(150);
    private readonly Database _database = new(new StorageOptions { DataDirectory = Scratch.NewDirectory("turns") });

    [Fact]
    public async Task A_writer_waits_until_the_writer_before_it_is_done()
    {
        var first = await _database.OpenForWriteAsync();
        var second = _database.OpenForWriteAsync().AsTask();
        await AssertStillWaitingAsync(second);

        await first.DisposeAsync();
        await using var connection = await second.WaitAsync(TimeSpan.FromSeconds(5));
        await WriteAsync(connection);
    }

    [Fact]
    public async Task A_writer_whose_turn_comes_during_a_priority_write_lets_it_finish_first()
    {
        var priority = await _database.OpenForPriorityWriteAsync();
        var writer = _database.OpenForWriteAsync().AsTask();
        await AssertStillWaitingAsync(writer);

        await WriteAsync(priority);
        await priority.DisposeAsync();
        await using var connection = await writer.WaitAsync(TimeSpan.FromSeconds(5));
        await WriteAsync(connection);
    }

    [Fact]
    public async Task A_stream_of_priority_writes_cannot_starve_a_waiting_writer()
    {
        var earlier = await _database.OpenForPriorityWriteAsync();
        var writer = _database.OpenForWriteAsync().AsTask();
        await Task.Delay(Settle);
        await using var later = await _database.OpenForPriorityWriteAsync();

        await earlier.DisposeAsync();
        await using var connection = await writer.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(writer.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Holding_the_writers_keeps_queued_and_priority_writers_waiting_until_it_ends()
    {
        var earlier = await _database.OpenForWriteAsync();
        var hold = _database.HoldWritersAsync().AsTask();
        await AssertStillWaitingAsync(hold);

        await earlier.DisposeAsync();
        var held = await hold.WaitAsync(TimeSpan.FromSeconds(5));
        var writer = _database.OpenForWriteAsync().AsTask();
        var priority = _database.OpenForPriorityWriteAsync().AsTask();
        await AssertStillWaitingAsync(writer, priority);

        held.Dispose();
        await using (var connection = await priority.WaitAsync(TimeSpan.FromSeconds(5)))
        {
            await WriteAsync(connection);
        }

        await using (var connection = await writer.WaitAsync(TimeSpan.FromSeconds(5)))
        {
            await WriteAsync(connection);
        }
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    private static async Task AssertStillWaitingAsync(params Task[] waiting)
    {
        await Task.Delay(Settle);
        Assert.All(waiting, task => Assert.False(task.IsCompleted));
    }

    private static async Task WriteAsync(System.Data.Common.DbConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS turns (n INTEGER); INSERT INTO turns VALUES (1);";
        await command.ExecuteNonQueryAsync();
    }
}
