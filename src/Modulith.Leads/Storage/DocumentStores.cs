using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Storage;

/// <summary>The workspace's sales reps, stored as JSON documents.</summary>
internal sealed class SalesRepStore(Database database)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<SalesRep>> ListAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM sales_reps WHERE workspace_id = @ws ORDER BY rep_id").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var reps = new List<SalesRep>();
        while (await reader.ReadAsync(cancellationToken))
        {
            reps.Add(JsonSerializer.Deserialize<SalesRep>(reader.GetString(0), Json)!);
        }

        return reps;
    }

    public async Task<SalesRep?> GetAsync(string workspaceId, string repId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM sales_reps WHERE workspace_id = @ws AND rep_id = @id").With("ws", workspaceId).With("id", repId);
        return await command.ExecuteScalarAsync(cancellationToken) is string body ? JsonSerializer.Deserialize<SalesRep>(body, Json) : null;
    }

    /// <summary>Creates (false when the id exists and <paramref name="replace"/> is false) or replaces a rep.</summary>
    public async Task<bool> SaveAsync(string workspaceId, SalesRep rep, bool replace, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command(replace
                ? "INSERT INTO sales_reps (workspace_id, rep_id, body) VALUES (@ws, @id, @body) ON CONFLICT (workspace_id, rep_id) DO UPDATE SET body = excluded.body"
                : "INSERT INTO sales_reps (workspace_id, rep_id, body) VALUES (@ws, @id, @body) ON CONFLICT DO NOTHING")
            .With("ws", workspaceId).With("id", rep.Id).With("body", JsonSerializer.Serialize(rep, Json));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}

/// <summary>The workspace's SLA agreement (one versioned document), cached briefly per silo.</summary>
internal sealed class SlaAgreementStore(Database database, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (SlaAgreement Agreement, DateTimeOffset LoadedAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>With no stored agreement: SQL leads are assigned round robin and must be contacted within an hour.</summary>
    public static SlaAgreement Default { get; } = new(
        [],
        [new SlaPolicy("sql-default", LeadStages.Sql, "PT1H", Reminders: [0.5, 0.8], Escalations: [new EscalationStep("PT0S", "manager")], Assignment: new AssignmentPolicy("round_robin"))]);

    public async Task<SlaAgreement> GetAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGetValue(workspaceId, out var cached) && clock.GetUtcNow() - cached.LoadedAt < CacheFor)
        {
            return cached.Agreement;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM sla_policies WHERE workspace_id = @ws").With("ws", workspaceId);
        var agreement = await command.ExecuteScalarAsync(cancellationToken) is string body ? JsonSerializer.Deserialize<SlaAgreement>(body, SalesRepStore.Json)! : Default;
        _cache[workspaceId] = (agreement, clock.GetUtcNow());
        return agreement;
    }

    public async Task<SlaAgreement> SaveAsync(string workspaceId, SlaAgreement agreement, CancellationToken cancellationToken)
    {
        var current = await GetAsync(workspaceId, cancellationToken);
        var stored = agreement with { Version = current.Version + 1, UpdatedAt = clock.GetUtcNow() };
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO sla_policies (workspace_id, body, version, updated_at) VALUES (@ws, @body, @v, @at) " +
            "ON CONFLICT (workspace_id) DO UPDATE SET body = excluded.body, version = excluded.version, updated_at = excluded.updated_at")
            .With("ws", workspaceId).With("body", JsonSerializer.Serialize(stored, SalesRepStore.Json)).With("v", stored.Version)
            .With("at", stored.UpdatedAt!.Value.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
        _cache[workspaceId] = (stored, clock.GetUtcNow());
        return stored;
    }
}

/// <summary>The next SLA time of every lead with a running clock: the durable side of the timers.</summary>
internal sealed class LeadTimerStore(Database database)
{
    private readonly DueTimeTable _table = new(database, "lead_timers", "lead_id");

    public Task SetAsync(string workspaceId, string leadId, DateTimeOffset? due) => _table.SetAsync(workspaceId, leadId, due);

    public Task<IReadOnlyList<(string WorkspaceId, string Key)>> DueAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        _table.DueAsync(until, limit, cancellationToken);
}
