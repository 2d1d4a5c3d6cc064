using System.Diagnostics;
using Modulith.Customers.Contracts;
using Modulith.Ingestion.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Segments.Membership;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.Segmentation.Segments.Preview;

/// <summary>Evaluates a rule over every customer of the workspace without saving it, with the same evaluator as the grains.</summary>
internal sealed class SegmentPreviewer(FactsIndex index, SegmentCatalog catalog, SegmentStore store, IEventLog eventLog, ICustomerDirectory customers, TimeProvider clock)
{
    public const int SampleSize = 10;

    public async Task<SegmentPreview> PreviewAsync(string workspaceId, Condition rule, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var now = clock.GetUtcNow();
        var set = await catalog.GetAsync(workspaceId);
        var subject = new PreviewSubject();
        foreach (var segmentId in RuleParser.References(rule).Distinct(StringComparer.Ordinal))
        {
            subject.Members[segmentId] = await store.MemberSetAsync(workspaceId, segmentId, cancellationToken);
        }

        foreach (var condition in RuleParser.Leaves(rule).OfType<EventCount>().DistinctBy(c => c.Key))
        {
            subject.Counts[condition.Key] = await CountAsync(workspaceId, condition, now, cancellationToken);
        }

        var (count, evaluated, sample) = await index.UseAsync(workspaceId, facts => Evaluate(facts, rule, subject, now, set.Lifecycle), cancellationToken);
        var described = await customers.DescribeAsync(workspaceId, sample, cancellationToken);
        return new SegmentPreview(count, evaluated, sample.Where(described.ContainsKey).Select(id => described[id]).ToList(), Math.Round(watch.Elapsed.TotalMilliseconds, 2));
    }

    internal static (long Count, long Evaluated, List<string> Sample) Evaluate(WorkspaceFacts facts, Condition rule, PreviewSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        var columns = facts.Columns;
        var bits = ColumnEvaluator.Select(rule, columns, subject, now, lifecycle);
        var sample = ColumnEvaluator.Rows(bits).Take(SampleSize).Select(row => columns.Ids[row]).ToList();
        return (ColumnEvaluator.Count(bits), columns.Count, sample);
    }

    private async Task<Dictionary<string, int>> CountAsync(string workspaceId, EventCount condition, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var (type, name) = EventMatcher.Stored(condition);
        var from = now - condition.Within;
        await foreach (var (customerId, eventName, timestamp, payload) in eventLog.StreamByNameAsync(workspaceId, type, name, from, cancellationToken))
        {
            if (timestamp > from && EventMatcher.Matches(condition, type, eventName, payload))
            {
                counts[customerId] = counts.GetValueOrDefault(customerId) + 1;
            }
        }

        return counts;
    }
}

/// <summary>One customer at a time during a preview.</summary>
internal sealed class PreviewSubject : ISegmentSubject
{
    public string CustomerId { get; set; } = string.Empty;

    public CustomerFacts Facts { get; set; } = new();

    public Dictionary<string, HashSet<string>> Members { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Dictionary<string, int>> Counts { get; } = new(StringComparer.Ordinal);

    public bool IsMember(string segmentId) => Members.TryGetValue(segmentId, out var members) && members.Contains(CustomerId);

    public int Count(EventCount condition, DateTimeOffset now) =>
        Counts.TryGetValue(condition.Key, out var counts) ? counts.GetValueOrDefault(CustomerId) : 0;

    public DateTimeOffset? FirstLeavesWindow(EventCount condition, DateTimeOffset now) => null;
}
