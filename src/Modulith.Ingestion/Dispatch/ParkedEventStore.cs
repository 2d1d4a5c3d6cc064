using System.Data.Common;
using System.Globalization;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Storage;

namespace Modulith.Ingestion.Dispatch;

/// <summary>
/// Events set aside by dispatch: out of their partition's queue (<c>pending_events</c>), with the reason in
/// <c>parked_events</c>. The event row itself is never changed, so a retry applies exactly what was acknowledged.
/// </summary>
internal sealed class ParkedEventStore(Database database)
{
    /// <summary>Sets the event aside, unless it was dispatched meanwhile.</summary>
    public async Task ParkAsync(IngestedEvent parked, int partition, int attempts, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var mark = connection.Command("DELETE FROM pending_events WHERE partition = @p AND seq = @s", transaction)
            .With("p", partition).With("s", parked.Sequence);
        if (await mark.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            await using var reason = connection.Command(
                "INSERT INTO parked_events (seq, workspace_id, partition, parked_at, attempts, error) VALUES (@s, @ws, @p, @at, @n, @e) " +
                "ON CONFLICT (seq) DO UPDATE SET parked_at = excluded.parked_at, attempts = excluded.attempts, error = excluded.error", transaction)
                .With("s", parked.Sequence).With("ws", parked.WorkspaceId).With("p", partition)
                .With("at", now.ToUnixTimeMilliseconds()).With("n", attempts).With("e", error);
            await reason.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Whether the store answers at all: a failure while it does not is the store's, not the event's.</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var command = connection.Command("SELECT COUNT(*) FROM parked_events WHERE seq = -1");
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (DbException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A workspace's parked events, oldest first, after the given sequence.</summary>
    public async Task<IReadOnlyList<ParkedEvent>> ListAsync(string workspaceId, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT e.seq, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.ts, e.received, p.parked_at, p.attempts, p.error " +
            "FROM parked_events p JOIN events e ON e.seq = p.seq WHERE p.workspace_id = @ws AND p.seq > @after ORDER BY p.seq LIMIT @n")
            .With("ws", workspaceId).With("after", after).With("n", limit);
        var parked = new List<ParkedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            parked.Add(new ParkedEvent(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.NullableString(3),
                reader.NullableString(4),
                reader.NullableString(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                reader.GetInt32(9),
                reader.GetString(10)));
        }

        return parked;
    }

    /// <summary>Counts a workspace's events still waiting for dispatch and those parked.</summary>
    public async Task<DispatchStatus> StatusAsync(string workspaceId, CancellationToken cancellationToken)
    {
        // The workspace is compared as an expression so that no index on workspace_id qualifies: the planner then counts
        // from the small queue of pending rows instead of every event the workspace ever sent (71 s against 3 ms over
        // 647,000 events on SQLite).
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT (SELECT COUNT(*) FROM pending_events p JOIN events e ON e.seq = p.seq WHERE (e.workspace_id || '') = @ws), " +
            "(SELECT COUNT(*) FROM parked_events WHERE workspace_id = @ws)")
            .With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DispatchStatus(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Puts a workspace's parked events (all, or those with the given messageIds) back in line for dispatch. Answers how
    /// many went back and the partitions to wake.
    /// </summary>
    public async Task<(int Requeued, IReadOnlySet<int> Partitions)> RequeueAsync(string workspaceId, IReadOnlyList<string>? messageIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var chosen = await ChooseAsync(connection, transaction, workspaceId, messageIds, cancellationToken);
        var partitions = new HashSet<int>();
        await using var requeue = connection.Command(
            "INSERT INTO pending_events (partition, seq) VALUES (@p, @s) ON CONFLICT (partition, seq) DO NOTHING", transaction).With("p", null).With("s", null);
        await using var forget = connection.Command("DELETE FROM parked_events WHERE seq = @s", transaction).With("s", null);
        foreach (var (sequence, partition) in chosen)
        {
            requeue.Parameters[0].Value = partition;
            requeue.Parameters[1].Value = sequence;
            await requeue.ExecuteNonQueryAsync(cancellationToken);
            forget.Parameters[0].Value = sequence;
            await forget.ExecuteNonQueryAsync(cancellationToken);
            partitions.Add(partition);
        }

        await transaction.CommitAsync(cancellationToken);
        return (chosen.Count, partitions);
    }

    private static async Task<List<(long Sequence, int Partition)>> ChooseAsync(
        DbConnection connection, DbTransaction transaction, string workspaceId, IReadOnlyList<string>? messageIds, CancellationToken cancellationToken)
    {
        var chosen = new List<(long, int)>();
        var chunks = messageIds is null ? [null] : messageIds.Distinct(StringComparer.Ordinal).Chunk(200).ToList<string[]?>();
        foreach (var chunk in chunks)
        {
            await using var command = chunk is null
                ? connection.Command("SELECT seq, partition FROM parked_events WHERE workspace_id = @ws", transaction)
                : connection.CommandWithList(
                    "SELECT p.seq, p.partition FROM parked_events p JOIN events e ON e.seq = p.seq WHERE p.workspace_id = @ws AND e.message_id IN (@list)",
                    chunk, transaction);
            command.With("ws", workspaceId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chosen.Add((reader.GetInt64(0), reader.GetInt32(1)));
            }
        }

        return chosen;
    }
}
