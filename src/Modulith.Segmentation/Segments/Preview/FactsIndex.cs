using System.Collections.Concurrent;
using Modulith.Segmentation.Segments.Membership;

namespace Modulith.Segmentation.Segments.Preview;

/// <summary>
/// Each silo's in-memory copy of a workspace's customer facts (from <c>segment_facts</c>) and scores, for previews and
/// the RFM computation: loaded on first use, then brought up to date with the rows changed since the last read.
/// </summary>
internal sealed class FactsIndex(SegmentStore store, FactsWriter writer)
{
    /// <summary>Rows may commit a little after their updated_at was taken; each refresh reads back this far.</summary>
    private const long ReadBackMilliseconds = 5_000;

    private readonly ConcurrentDictionary<string, WorkspaceFacts> _workspaces = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="work"/> over the workspace's up-to-date facts, one caller at a time per workspace.</summary>
    public async Task<T> UseAsync<T>(string workspaceId, Func<WorkspaceFacts, T> work, CancellationToken cancellationToken)
    {
        var facts = _workspaces.GetOrAdd(workspaceId, _ => new WorkspaceFacts());
        await facts.Gate.WaitAsync(cancellationToken);
        try
        {
            await writer.FlushAsync(cancellationToken);
            await RefreshAsync(workspaceId, facts, cancellationToken);
            return work(facts);
        }
        finally
        {
            facts.Gate.Release();
        }
    }

    private async Task RefreshAsync(string workspaceId, WorkspaceFacts facts, CancellationToken cancellationToken)
    {
        if (!facts.Loaded)
        {
            await foreach (var (customerId, scores) in store.AllScoresAsync(workspaceId, cancellationToken))
            {
                facts.Scores[customerId] = scores;
            }
        }

        var from = facts.LastUpdatedAt == long.MinValue ? long.MinValue : facts.LastUpdatedAt - ReadBackMilliseconds;
        await foreach (var (customerId, json, updatedAt) in store.FactsSinceAsync(workspaceId, from, cancellationToken))
        {
            var row = CustomerFacts.FromJson(json);
            row.Scores = facts.Scores.GetValueOrDefault(customerId);
            facts.Columns.Set(customerId, row);
            facts.LastUpdatedAt = Math.Max(facts.LastUpdatedAt, updatedAt);
        }

        facts.Loaded = true;
    }
}

/// <summary>One workspace's facts in memory.</summary>
internal sealed class WorkspaceFacts
{
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public FactsColumns Columns { get; } = new();

    public Dictionary<string, CustomerScores> Scores { get; } = new(StringComparer.Ordinal);

    public long LastUpdatedAt { get; set; } = long.MinValue;

    public bool Loaded { get; set; }
}
