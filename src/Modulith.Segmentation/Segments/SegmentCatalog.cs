using System.Collections.Concurrent;
using System.Text.Json;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.Segmentation.Segments;

/// <summary>A segment's parsed rule.</summary>
internal sealed record CompiledSegment(string Id, string Name, int Version, Condition Rule);

/// <summary>A workspace's segments in evaluation order (a segment after the segments its rule refers to), with what they read.</summary>
internal sealed record SegmentSet(IReadOnlyList<CompiledSegment> Ordered, IReadOnlyDictionary<string, EventCount> CountedEvents, bool UsesScores, LifecycleWindows Lifecycle, long ScoresVersion)
{
    public static SegmentSet Compile(IEnumerable<(string Id, string Name, int Version, string Rule)> segments, LifecycleWindows lifecycle, long scoresVersion = 0)
    {
        var compiled = new Dictionary<string, CompiledSegment>(StringComparer.Ordinal);
        foreach (var (id, name, version, rule) in segments)
        {
            using var document = JsonDocument.Parse(rule);
            if (RuleParser.Parse(document.RootElement, out _) is { } condition)
            {
                compiled[id] = new CompiledSegment(id, name, version, condition);
            }
        }

        var ordered = new List<CompiledSegment>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        void Visit(CompiledSegment segment)
        {
            if (state.TryGetValue(segment.Id, out var mark))
            {
                return;
            }

            state[segment.Id] = 1;
            foreach (var reference in RuleParser.References(segment.Rule))
            {
                if (compiled.TryGetValue(reference, out var dependency) && !state.ContainsKey(reference))
                {
                    Visit(dependency);
                }
            }

            state[segment.Id] = 2;
            ordered.Add(segment);
        }

        foreach (var segment in compiled.Values.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            Visit(segment);
        }

        var leaves = ordered.SelectMany(s => RuleParser.Leaves(s.Rule)).ToList();
        var counted = new Dictionary<string, EventCount>(StringComparer.Ordinal);
        foreach (var events in leaves.OfType<EventCount>())
        {
            counted.TryAdd(events.Key, events);
        }

        return new SegmentSet(ordered, counted, leaves.OfType<MetricIs>().Any(m => m.Metric.IsScore), lifecycle, scoresVersion);
    }

    /// <summary>The cycle a rule would close, as a path of segment ids; null when there is none.</summary>
    public static IReadOnlyList<string>? CycleThrough(string segmentId, Condition rule, IReadOnlyDictionary<string, Condition> others)
    {
        var path = new List<string> { segmentId };
        bool Reaches(Condition condition)
        {
            foreach (var reference in RuleParser.References(condition).Distinct(StringComparer.Ordinal))
            {
                if (reference == segmentId)
                {
                    path.Add(reference);
                    return true;
                }

                if (path.Contains(reference) || !others.TryGetValue(reference, out var next))
                {
                    continue;
                }

                path.Add(reference);
                if (Reaches(next))
                {
                    return true;
                }

                path.RemoveAt(path.Count - 1);
            }

            return false;
        }

        return Reaches(rule) ? path : null;
    }
}

/// <summary>
/// Each silo's cache of the workspaces' compiled segments. A change made through this silo is seen at once; a change
/// made through another silo within <see cref="Freshness"/>.
/// </summary>
internal sealed class SegmentCatalog(SegmentStore store, TimeProvider clock)
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, (DateTimeOffset LoadedAt, long Generation, Task<SegmentSet> Set)> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);

    public Task<SegmentSet> GetAsync(string workspaceId)
    {
        var now = clock.GetUtcNow();
        var generation = _generations.GetOrAdd(workspaceId, 0);
        if (_cache.TryGetValue(workspaceId, out var entry) && entry.Generation == generation && now - entry.LoadedAt < Freshness && !entry.Set.IsFaulted)
        {
            return entry.Set;
        }

        var load = LoadAsync(workspaceId);
        _cache[workspaceId] = (now, generation, load);
        return load;
    }

    /// <summary>The workspace's segments including <paramref name="segmentId"/> at <paramref name="version"/> or later (reloaded when this silo's copy is older).</summary>
    public async Task<SegmentSet> GetAsync(string workspaceId, string segmentId, int version)
    {
        var set = await GetAsync(workspaceId);
        if (set.Ordered.Any(s => s.Id == segmentId && s.Version >= version))
        {
            return set;
        }

        Invalidate(workspaceId);
        return await GetAsync(workspaceId);
    }

    /// <summary>Forgets the cached set; a load that started before this call is not reused.</summary>
    public void Invalidate(string workspaceId) => _generations.AddOrUpdate(workspaceId, 1, (_, generation) => generation + 1);

    private async Task<SegmentSet> LoadAsync(string workspaceId)
    {
        var segments = await store.ListAsync(workspaceId);
        var lifecycle = await store.LifecycleAsync(workspaceId);
        var scoresVersion = await store.RfmComputedAtAsync(workspaceId, CancellationToken.None);
        return SegmentSet.Compile(segments.Select(s => (s.Id, s.Name, s.Version, s.Rule)), lifecycle, scoresVersion);
    }
}
