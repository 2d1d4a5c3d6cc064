using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Scoring;

/// <summary>
/// The versioned scoring models. Every silo caches each workspace's current model for a few seconds; a caller that
/// needs at least a given version (a rescore after a change) makes the cache reload.
/// </summary>
internal sealed class ScoringModelStore(Database database, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, (ScoringModel Model, DateTimeOffset LoadedAt)> _current = new(StringComparer.Ordinal);

    public async Task<ScoringModel> CurrentAsync(string workspaceId, int atLeastVersion = 0, CancellationToken cancellationToken = default)
    {
        if (_current.TryGetValue(workspaceId, out var cached) && cached.Model.Version >= atLeastVersion && clock.GetUtcNow() - cached.LoadedAt < CacheFor)
        {
            return cached.Model;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT model FROM lead_scoring_models WHERE workspace_id = @ws ORDER BY version DESC LIMIT 1").With("ws", workspaceId);
        var stored = await command.ExecuteScalarAsync(cancellationToken) as string;
        var model = stored is null ? DefaultScoringModel.Create() : JsonSerializer.Deserialize<ScoringModel>(stored, Json)!;
        _current[workspaceId] = (model, clock.GetUtcNow());
        return model;
    }

    public async Task<IReadOnlyList<ScoringModel>> HistoryAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT model FROM lead_scoring_models WHERE workspace_id = @ws ORDER BY version DESC").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var models = new List<ScoringModel>();
        while (await reader.ReadAsync(cancellationToken))
        {
            models.Add(JsonSerializer.Deserialize<ScoringModel>(reader.GetString(0), Json)! with { Rules = null, Mql = null, Sql = null });
        }

        return models;
    }

    /// <summary>Stores the model as the next version (the default model is version 1); answers it with its version.</summary>
    public async Task<ScoringModel> SaveAsync(string workspaceId, ScoringModel model, string? createdBy, CancellationToken cancellationToken)
    {
        var current = await CurrentAsync(workspaceId, cancellationToken: cancellationToken);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var stored = model with { Version = current.Version + 1 + attempt, CreatedAt = clock.GetUtcNow(), CreatedBy = createdBy };
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var insert = connection.Command(
                "INSERT INTO lead_scoring_models (workspace_id, version, model, created_at, created_by) VALUES (@ws, @v, @model, @at, @by) ON CONFLICT DO NOTHING")
                .With("ws", workspaceId).With("v", stored.Version).With("model", JsonSerializer.Serialize(stored, Json))
                .With("at", stored.CreatedAt!.Value.ToString("O", CultureInfo.InvariantCulture)).With("by", createdBy);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                _current[workspaceId] = (stored, clock.GetUtcNow());
                return stored;
            }
        }

        throw new InvalidOperationException("The scoring model changed 100 times while this version was being stored.");
    }
}
