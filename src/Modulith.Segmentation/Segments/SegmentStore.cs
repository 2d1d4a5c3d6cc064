using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Modulith.SharedKernel.Storage;

namespace Modulith.Segmentation.Segments;

/// <summary>A stored segment definition.</summary>
internal sealed record StoredSegment(
    string Id, string Name, string? Description, string Rule, int Version, long MemberCount,
    string BackfillStatus, long BackfillTotal, long BackfillDone, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A back-fill claimed by a worker.</summary>
internal sealed record BackfillJob(string WorkspaceId, string SegmentId, int Version, string? Cursor, long Done);

/// <summary>A stored membership change waiting to be relayed.</summary>
internal sealed record StoredChange(long Sequence, string WorkspaceId, string SegmentId, string CustomerId, string Kind, DateTimeOffset At);

/// <summary>Segment definitions, members with exact counts, the change feed, facts for previews, timers and settings.</summary>
internal sealed class SegmentStore(Database database)
{
    public const string Running = "running";
    public const string Completed = "completed";

    private readonly DueTimeTable _timers = new(database, "segment_timers", "customer_id");

    private const string SegmentColumns =
        "segment_id, name, description, rule, version, member_count, backfill_status, backfill_total, backfill_done, created_at, updated_at";

    public async Task<bool> CreateAsync(string workspaceId, string id, string name, string? description, string rule, string? createdBy, DateTimeOffset now)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var command = connection.Command(
            "INSERT INTO segments (workspace_id, segment_id, name, description, rule, version, backfill_status, created_at, updated_at, created_by) " +
            "VALUES (@ws, @id, @name, @description, @rule, 1, @running, @now, @now, @by) ON CONFLICT (workspace_id, segment_id) DO NOTHING")
            .With("ws", workspaceId).With("id", id).With("name", name).With("description", description).With("rule", rule)
            .With("running", Running).With("now", now.ToUnixTimeMilliseconds()).With("by", createdBy);
        return await command.ExecuteNonQueryAsync() == 1;
    }

    /// <summary>Replaces a definition; a changed rule gets a new version and a new back-fill.</summary>
    public async Task<bool> UpdateAsync(string workspaceId, string id, string name, string? description, string rule, DateTimeOffset now)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var command = connection.Command(
            "UPDATE segments SET name = @name, description = @description, " +
            "version = CASE WHEN rule = @rule THEN version ELSE version + 1 END, " +
            "backfill_status = CASE WHEN rule = @rule THEN backfill_status ELSE @running END, " +
            "backfill_done = CASE WHEN rule = @rule THEN backfill_done ELSE 0 END, " +
            "backfill_cursor = CASE WHEN rule = @rule THEN backfill_cursor ELSE NULL END, " +
            "backfill_lease = CASE WHEN rule = @rule THEN backfill_lease ELSE 0 END, " +
            "rule = @rule, updated_at = @now WHERE workspace_id = @ws AND segment_id = @id")
            .With("ws", workspaceId).With("id", id).With("name", name).With("description", description).With("rule", rule)
            .With("running", Running).With("now", now.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync() == 1;
    }

    public async Task<bool> DeleteAsync(string workspaceId, string id)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var delete = connection.Command("DELETE FROM segments WHERE workspace_id = @ws AND segment_id = @id", transaction).With("ws", workspaceId).With("id", id);
        var deleted = await delete.ExecuteNonQueryAsync() == 1;
        await using var members = connection.Command("DELETE FROM segment_members WHERE workspace_id = @ws AND segment_id = @id", transaction).With("ws", workspaceId).With("id", id);
        await members.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        return deleted;
    }

    public async Task<StoredSegment?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {SegmentColumns} FROM segments WHERE workspace_id = @ws AND segment_id = @id")
            .With("ws", workspaceId).With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadSegment(reader) : null;
    }

    public async Task<IReadOnlyList<StoredSegment>> ListAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {SegmentColumns} FROM segments WHERE workspace_id = @ws ORDER BY segment_id").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var segments = new List<StoredSegment>();
        while (await reader.ReadAsync(cancellationToken))
        {
            segments.Add(ReadSegment(reader));
        }

        return segments;
    }

    private static StoredSegment ReadSegment(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.NullableString(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5),
        reader.GetString(6), reader.GetInt64(7), reader.GetInt64(8),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)));

    /// <summary>
    /// Records entries and exits in one transaction with the counts and the change feed; idempotent (an entry already
    /// stored or an exit already applied changes nothing and emits nothing).
    /// </summary>
    public async Task ApplyMembershipAsync(string workspaceId, string customerId, IReadOnlyList<string> entered, IReadOnlyList<string> exited, DateTimeOffset at)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (segments, kind) in new[] { (entered, "entered"), (exited, "exited") })
        {
            foreach (var segmentId in segments)
            {
                await using var change = connection.Command(kind == "entered"
                    ? "INSERT INTO segment_members (workspace_id, segment_id, customer_id, entered_at) SELECT @ws, @seg, @c, @at " +
                      "WHERE EXISTS (SELECT 1 FROM segments WHERE workspace_id = @ws AND segment_id = @seg) ON CONFLICT (workspace_id, segment_id, customer_id) DO NOTHING"
                    : "DELETE FROM segment_members WHERE workspace_id = @ws AND segment_id = @seg AND customer_id = @c", transaction)
                    .With("ws", workspaceId).With("seg", segmentId).With("c", customerId).With("at", at.ToUnixTimeMilliseconds());
                if (await change.ExecuteNonQueryAsync() != 1)
                {
                    continue;
                }

                await using var count = connection.Command(
                    $"UPDATE segments SET member_count = member_count {(kind == "entered" ? "+" : "-")} 1 WHERE workspace_id = @ws AND segment_id = @seg", transaction)
                    .With("ws", workspaceId).With("seg", segmentId);
                await count.ExecuteNonQueryAsync();
                await using var feed = connection.Command(
                    "INSERT INTO segment_changes (workspace_id, segment_id, customer_id, kind, at) VALUES (@ws, @seg, @c, @kind, @at)", transaction)
                    .With("ws", workspaceId).With("seg", segmentId).With("c", customerId).With("kind", kind).With("at", at.ToUnixTimeMilliseconds());
                await feed.ExecuteNonQueryAsync();
            }
        }

        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<(string CustomerId, DateTimeOffset EnteredAt)>> MembersAsync(
        string workspaceId, string segmentId, string? afterCustomerId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT customer_id, entered_at FROM segment_members WHERE workspace_id = @ws AND segment_id = @seg AND customer_id > @after ORDER BY customer_id LIMIT @limit")
            .With("ws", workspaceId).With("seg", segmentId).With("after", afterCustomerId ?? string.Empty).With("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var members = new List<(string, DateTimeOffset)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            members.Add((reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }

        return members;
    }

    public async Task<HashSet<string>> MemberSetAsync(string workspaceId, string segmentId, CancellationToken cancellationToken)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT customer_id FROM segment_members WHERE workspace_id = @ws AND segment_id = @seg")
            .With("ws", workspaceId).With("seg", segmentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            set.Add(reader.GetString(0));
        }

        return set;
    }

    public async Task<IReadOnlyList<StoredChange>> ChangesAsync(string workspaceId, string segmentId, long after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT seq, workspace_id, segment_id, customer_id, kind, at FROM segment_changes WHERE workspace_id = @ws AND segment_id = @seg AND seq > @after ORDER BY seq LIMIT @limit")
            .With("ws", workspaceId).With("seg", segmentId).With("after", after).With("limit", limit);
        return await ReadChangesAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredChange>> PendingChangesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT seq, workspace_id, segment_id, customer_id, kind, at FROM segment_changes WHERE relayed = 0 ORDER BY seq LIMIT @limit").With("limit", limit);
        return await ReadChangesAsync(command, cancellationToken);
    }

    public async Task MarkRelayedAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sequence in sequences)
        {
            await using var command = connection.Command("UPDATE segment_changes SET relayed = 1 WHERE seq = @seq", transaction).With("seq", sequence);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<StoredChange>> ReadChangesAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var changes = new List<StoredChange>();
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(new StoredChange(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return changes;
    }

    /// <summary>Claims one running back-fill whose lease has expired (any silo may resume it).</summary>
    public async Task<BackfillJob?> ClaimBackfillAsync(DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var select = connection.Command(
            "SELECT workspace_id, segment_id, version, backfill_cursor, backfill_done FROM segments WHERE backfill_status = @running AND backfill_lease < @now ORDER BY updated_at LIMIT 1")
            .With("running", Running).With("now", now.ToUnixTimeMilliseconds());
        BackfillJob? job = null;
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                job = new BackfillJob(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.NullableString(3), reader.GetInt64(4));
            }
        }

        if (job is null)
        {
            return null;
        }

        await using var claim = connection.Command(
            "UPDATE segments SET backfill_lease = @until WHERE workspace_id = @ws AND segment_id = @id AND version = @v AND backfill_lease < @now")
            .With("until", (now + lease).ToUnixTimeMilliseconds()).With("ws", job.WorkspaceId).With("id", job.SegmentId).With("v", job.Version)
            .With("now", now.ToUnixTimeMilliseconds());
        return await claim.ExecuteNonQueryAsync(cancellationToken) == 1 ? job : null;
    }

    /// <summary>Saves progress and extends the lease; false when the segment changed or disappeared meanwhile (the job is stale).</summary>
    public async Task<bool> BackfillProgressAsync(BackfillJob job, long total, long done, string? cursor, bool finished, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command(
            "UPDATE segments SET backfill_total = @total, backfill_done = @done, backfill_cursor = @cursor, backfill_status = @status, backfill_lease = @lease " +
            "WHERE workspace_id = @ws AND segment_id = @id AND version = @v")
            .With("total", total).With("done", done).With("cursor", cursor).With("status", finished ? Completed : Running)
            .With("lease", finished ? 0 : leaseUntil.ToUnixTimeMilliseconds()).With("ws", job.WorkspaceId).With("id", job.SegmentId).With("v", job.Version);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task UpsertFactsAsync(IReadOnlyCollection<(string WorkspaceId, string CustomerId, string Facts)> rows, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO segment_facts (workspace_id, customer_id, facts, updated_at) VALUES (@ws, @c, @facts, @now) " +
            "ON CONFLICT (workspace_id, customer_id) DO UPDATE SET facts = excluded.facts, updated_at = excluded.updated_at", transaction)
            .With("ws", string.Empty).With("c", string.Empty).With("facts", string.Empty).With("now", now.ToUnixTimeMilliseconds());
        await command.PrepareAsync(cancellationToken);
        foreach (var row in rows)
        {
            command.Parameters[0].Value = row.WorkspaceId;
            command.Parameters[1].Value = row.CustomerId;
            command.Parameters[2].Value = row.Facts;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<string?> FactsAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT facts FROM segment_facts WHERE workspace_id = @ws AND customer_id = @c").With("ws", workspaceId).With("c", customerId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The stored facts of the given customers (those without facts are left out).</summary>
    public async Task<Dictionary<string, string>> FactsAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in customerIds.Chunk(200))
        {
            await using var command = connection.CommandWithList("SELECT customer_id, facts FROM segment_facts WHERE workspace_id = @ws AND customer_id IN (@list)", chunk)
                .With("ws", workspaceId);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                facts[reader.GetString(0)] = reader.GetString(1);
            }
        }

        return facts;
    }

    public async IAsyncEnumerable<(string CustomerId, string Facts, long UpdatedAt)> FactsSinceAsync(
        string workspaceId, long updatedFrom, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT customer_id, facts, updated_at FROM segment_facts WHERE workspace_id = @ws AND updated_at >= @from")
            .With("ws", workspaceId).With("from", updatedFrom);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.GetString(1), reader.GetInt64(2));
        }
    }

    public Task SetTimerAsync(string workspaceId, string customerId, DateTimeOffset? dueAt) => _timers.SetAsync(workspaceId, customerId, dueAt);

    public Task<IReadOnlyList<(string WorkspaceId, string Key)>> DueTimersAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        _timers.DueAsync(until, limit, cancellationToken);

    public async Task<LifecycleWindows> LifecycleAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM segmentation_settings WHERE workspace_id = @ws").With("ws", workspaceId);
        return await command.ExecuteScalarAsync(cancellationToken) is string body && JsonSerializer.Deserialize<StoredWindows>(body) is { } stored
            ? new LifecycleWindows(TimeSpan.FromSeconds(stored.NewSeconds), TimeSpan.FromSeconds(stored.ActiveSeconds), TimeSpan.FromSeconds(stored.LostSeconds))
            : LifecycleWindows.Default;
    }

    public async Task SaveLifecycleAsync(string workspaceId, LifecycleWindows windows, DateTimeOffset now)
    {
        var body = JsonSerializer.Serialize(new StoredWindows(windows.New.TotalSeconds, windows.Active.TotalSeconds, windows.Lost.TotalSeconds));
        await using var connection = await database.OpenForWriteAsync();
        await using var command = connection.Command(
            "INSERT INTO segmentation_settings (workspace_id, body, updated_at) VALUES (@ws, @body, @now) ON CONFLICT (workspace_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at")
            .With("ws", workspaceId).With("body", body).With("now", now.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync();
    }

    private sealed record StoredWindows(double NewSeconds, double ActiveSeconds, double LostSeconds);

    public async Task SaveScoresAsync(string workspaceId, IReadOnlyCollection<(string CustomerId, CustomerScores Scores)> scores, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO customer_scores (workspace_id, customer_id, body) VALUES (@ws, @c, @body) ON CONFLICT (workspace_id, customer_id) DO UPDATE SET body = excluded.body", transaction)
            .With("ws", workspaceId).With("c", string.Empty).With("body", string.Empty);
        await command.PrepareAsync(cancellationToken);
        foreach (var (customerId, score) in scores)
        {
            command.Parameters[1].Value = customerId;
            command.Parameters[2].Value = JsonSerializer.Serialize(score);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<CustomerScores?> ScoresAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM customer_scores WHERE workspace_id = @ws AND customer_id = @c").With("ws", workspaceId).With("c", customerId);
        return await command.ExecuteScalarAsync(cancellationToken) is string body ? JsonSerializer.Deserialize<CustomerScores>(body) : null;
    }

    public async Task SaveRfmAsync(string workspaceId, string body, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO rfm_runs (workspace_id, body, computed_at) VALUES (@ws, @body, @at) ON CONFLICT (workspace_id) DO UPDATE SET body = excluded.body, computed_at = excluded.computed_at")
            .With("ws", workspaceId).With("body", body).With("at", at.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<string?> RfmAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM rfm_runs WHERE workspace_id = @ws").With("ws", workspaceId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<long> RfmComputedAtAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT computed_at FROM rfm_runs WHERE workspace_id = @ws").With("ws", workspaceId);
        return await command.ExecuteScalarAsync(cancellationToken) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
    }

    public async IAsyncEnumerable<(string CustomerId, CustomerScores Scores)> AllScoresAsync(string workspaceId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT customer_id, body FROM customer_scores WHERE workspace_id = @ws").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (JsonSerializer.Deserialize<CustomerScores>(reader.GetString(1)) is { } scores)
            {
                yield return (reader.GetString(0), scores);
            }
        }
    }

    /// <summary>Workspaces with customers, for the periodic scores.</summary>
    public async Task<IReadOnlyList<(string WorkspaceId, long LastComputed)>> WorkspacesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT f.workspace_id, COALESCE(MAX(r.computed_at), 0) FROM (SELECT DISTINCT workspace_id FROM segment_facts) f LEFT JOIN rfm_runs r ON r.workspace_id = f.workspace_id GROUP BY f.workspace_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<(string, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add((reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)));
        }

        return list;
    }
}
