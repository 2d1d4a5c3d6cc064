using System.Data.Common;
using Modulith.Leads.Pipeline;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Storage;

/// <summary>A row per lead for lists, filters and reports (the grains are the source of truth; each save rewrites the row).</summary>
internal sealed class LeadProjectionStore
{
    private readonly Database database;
    private readonly GroupCommit<LeadRow> _upserts;

    public LeadProjectionStore(Database database)
    {
        this.database = database;
        _upserts = new GroupCommit<LeadRow>(UpsertRowsAsync);
    }

    /// <summary>Rewrites the lead's row as the state is now; concurrent saves of many leads share one transaction.</summary>
    public Task UpsertAsync(string workspaceId, string leadId, LeadState s) => _upserts.WriteAsync([new LeadRow(workspaceId, leadId,
        s.Stage, s.OwnerId, s.Score?.Total ?? 0, s.Score?.ModelVersion ?? 0, s.Source.Channel, s.Source.Source, s.Source.Campaign,
        Ms(s.CreatedAt) ?? Ms(s.UpdatedAt), Ms(s.MqlAt), Ms(s.SqlAt), Ms(s.AcceptedAt), Ms(s.RejectedAt), s.RejectionReason, Ms(s.CustomerAt),
        Ms(s.RecycledAt), s.Sla?.PolicyId, Ms(s.Sla?.StartedAt), Ms(s.Sla?.DueAt), Ms(s.Sla?.FirstContactAt ?? s.FirstContactAt),
        s.Sla?.Breached == true ? 1 : 0, Ms(s.UpdatedAt))]);

    private const string UpsertSql = """
        INSERT INTO leads (workspace_id, lead_id, stage, owner_id, score, model_version, channel, source, campaign, created_at, mql_at, sql_at, accepted_at,
            rejected_at, rejection_reason, customer_at, recycled_at, sla_policy, sla_started_at, sla_due_at, first_contact_at, breached, updated_at)
        VALUES (@ws, @id, @stage, @owner, @score, @model, @channel, @source, @campaign, @created, @mql, @sql, @accepted,
            @rejected, @reason, @customer, @recycled, @policy, @slaStart, @slaDue, @contact, @breached, @updated)
        ON CONFLICT (workspace_id, lead_id) DO UPDATE SET stage = excluded.stage, owner_id = excluded.owner_id, score = excluded.score,
            model_version = excluded.model_version, channel = excluded.channel, source = excluded.source, campaign = excluded.campaign,
            created_at = excluded.created_at, mql_at = excluded.mql_at, sql_at = excluded.sql_at, accepted_at = excluded.accepted_at,
            rejected_at = excluded.rejected_at, rejection_reason = excluded.rejection_reason, customer_at = excluded.customer_at,
            recycled_at = excluded.recycled_at, sla_policy = excluded.sla_policy, sla_started_at = excluded.sla_started_at,
            sla_due_at = excluded.sla_due_at, first_contact_at = excluded.first_contact_at, breached = excluded.breached, updated_at = excluded.updated_at
        """;

    private static readonly string[] UpsertParameters =
    [
        "ws", "id", "stage", "owner", "score", "model", "channel", "source", "campaign", "created", "mql", "sql", "accepted",
        "rejected", "reason", "customer", "recycled", "policy", "slaStart", "slaDue", "contact", "breached", "updated",
    ];

    // One statement for the whole batch, rebound per row, in queue order: a later save of the same lead wins.
    private async Task UpsertRowsAsync(IReadOnlyList<LeadRow> rows)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.Command(UpsertSql, transaction);
        foreach (var name in UpsertParameters)
        {
            command.With(name, null);
        }

        foreach (var row in rows)
        {
            object?[] values =
            [
                row.WorkspaceId, row.LeadId, row.Stage, row.OwnerId, row.Score, row.ModelVersion, row.Channel, row.Source, row.Campaign,
                row.CreatedAt, row.MqlAt, row.SqlAt, row.AcceptedAt, row.RejectedAt, row.RejectionReason, row.CustomerAt, row.RecycledAt,
                row.SlaPolicy, row.SlaStartedAt, row.SlaDueAt, row.FirstContactAt, row.Breached, row.UpdatedAt,
            ];
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters[i].Value = values[i] ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Open leads (MQL, SQL, accepted) per rep, for capacity and least-loaded assignment.</summary>
    public async Task<Dictionary<string, int>> OpenLeadsByRepAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT owner_id, COUNT(*) FROM leads WHERE workspace_id = @ws AND owner_id IS NOT NULL AND stage IN ('MQL', 'SQL', 'Accepted') GROUP BY owner_id")
            .With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var loads = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            loads[reader.GetString(0)] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        }

        return loads;
    }

    /// <summary>Lead ids of the workspace, in id order after <paramref name="afterId"/>, filtered.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string workspaceId, string? stage, string? owner, bool? breached, string? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = "SELECT lead_id FROM leads WHERE workspace_id = @ws";
        await using var command = connection.CreateCommand();
        command.With("ws", workspaceId);
        if (stage is not null)
        {
            sql += " AND stage = @stage";
            command.With("stage", stage);
        }

        if (owner is not null)
        {
            sql += " AND owner_id = @owner";
            command.With("owner", owner);
        }

        if (breached is { } isBreached)
        {
            sql += " AND breached = @breached";
            command.With("breached", isBreached ? 1 : 0);
        }

        if (afterId is not null)
        {
            sql += " AND lead_id > @after";
            command.With("after", afterId);
        }

        command.CommandText = sql + " ORDER BY lead_id LIMIT @limit";
        command.With("limit", limit);
        return await ReadIdsAsync(command, cancellationToken);
    }

    /// <summary>Every lead id of the workspace (for a background rescore).</summary>
    public async Task<IReadOnlyList<string>> AllIdsAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT lead_id FROM leads WHERE workspace_id = @ws ORDER BY lead_id").With("ws", workspaceId);
        return await ReadIdsAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<string>> ReadIdsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private static long? Ms(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds();
}

/// <summary>A lead's row as it was when the lead was saved (times in Unix milliseconds).</summary>
internal sealed record LeadRow(
    string WorkspaceId, string LeadId, string Stage, string? OwnerId, double Score, int ModelVersion, string? Channel, string? Source, string? Campaign,
    long? CreatedAt, long? MqlAt, long? SqlAt, long? AcceptedAt, long? RejectedAt, string? RejectionReason, long? CustomerAt, long? RecycledAt,
    string? SlaPolicy, long? SlaStartedAt, long? SlaDueAt, long? FirstContactAt, int Breached, long? UpdatedAt);
