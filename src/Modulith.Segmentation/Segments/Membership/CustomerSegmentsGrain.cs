using Modulith.Ingestion.Contracts;
using Modulith.Segmentation.Segments.Rules;
using Orleans.Concurrency;

namespace Modulith.Segmentation.Segments.Membership;

/// <summary>
/// One customer's segment memberships; key <c>{workspace}/{customerId}</c>. Re-evaluates every segment of the workspace
/// on each change of the customer (events, lead stage, scores) and when a time-based condition comes due.
/// </summary>
internal interface ICustomerSegmentsGrain : IGrainWithStringKey
{
    /// <summary>New activity: the profile's facts after it and the events that count for event conditions.</summary>
    Task ObserveAsync(SegmentInput input);

    /// <summary>
    /// Evaluates again for the back-fill of <paramref name="segmentId"/> at <paramref name="version"/> (this silo's
    /// definitions are reloaded when older); false when this customer's facts are unknown and no seed was given.
    /// </summary>
    Task<bool> EvaluateAsync(CustomerFacts? seed, string segmentId, int version);

    /// <summary>Wakes on a stored due time: evaluates when due, or arms an exact timer when it is about to be.</summary>
    Task WakeAsync();

    /// <summary>The lead's stage changed outside customer activity (sales feedback, SLA).</summary>
    Task UpdateLeadAsync(string stage);

    /// <summary>New periodic scores (RFM, CLV).</summary>
    Task UpdateScoresAsync(CustomerScores scores);

    /// <summary>The person's data was erased: the facts lose their traits and consents, and the segments that read them are evaluated again.</summary>
    Task EraseAsync();

    /// <summary>The segments this customer is in, with when they entered.</summary>
    [ReadOnly]
    Task<IReadOnlyDictionary<string, DateTimeOffset>> GetMembershipsAsync();
}

/// <summary>An event that matched an event condition.</summary>
[GenerateSerializer, Immutable, Alias("modulith.segmentation.CountedHit")]
internal sealed record CountedHit([property: Id(0)] string Key, [property: Id(1)] string MessageId, [property: Id(2)] DateTimeOffset At);

/// <summary>What the activity observer hands the grain.</summary>
[GenerateSerializer, Immutable, Alias("modulith.segmentation.SegmentInput")]
internal sealed record SegmentInput([property: Id(0)] CustomerFacts Facts, [property: Id(1)] IReadOnlyList<CountedHit> Hits, [property: Id(2)] string? SourceConnector);

[GenerateSerializer, Alias("modulith.segmentation.CountedOccurrence")]
internal sealed record CountedOccurrence([property: Id(0)] string MessageId, [property: Id(1)] DateTimeOffset At);

/// <summary>The persisted part (JSON by property name; add properties, never rename them).</summary>
[GenerateSerializer, Alias("modulith.segmentation.CustomerSegmentsState")]
internal sealed class CustomerSegmentsState
{
    [Id(0)] public Dictionary<string, DateTimeOffset> Members { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Occurrences of counted events by condition key, inside their window; a key present is complete (primed from the event log).</summary>
    [Id(1)] public Dictionary<string, List<CountedOccurrence>> Counted { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public string? SourceConnector { get; set; }

    [Id(3)] public DateTimeOffset? NextDueAt { get; set; }
}

internal sealed class CustomerSegmentsGrain(
    [PersistentState("segments", SegmentationModule.GrainStorage)] IPersistentState<CustomerSegmentsState> state,
    SegmentCatalog catalog,
    SegmentStore store,
    FactsWriter facts,
    IEventLog eventLog,
    TimeProvider clock) : Grain, ICustomerSegmentsGrain, ISegmentSubject
{
    private static readonly TimeSpan ExactTimerHorizon = TimeSpan.FromSeconds(5);

    private CustomerFacts? _facts;
    private bool _factsLoaded;
    /// <summary>The facts changed since they were last handed to the projection writer.</summary>
    private bool _factsChanged;
    private Dictionary<string, bool>? _evaluating;
    private IGrainTimer? _timer;
    private long _scoresVersion = -1;

    private CustomerSegmentsState S => state.State;

    private (string Workspace, string Customer) Key
    {
        get
        {
            var key = this.GetPrimaryKeyString();
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            return (key[..slash], key[(slash + 1)..]);
        }
    }

    public CustomerFacts Facts => _facts!;

    public async Task ObserveAsync(SegmentInput input)
    {
        // The input is the profile as it is now: no need to read the stored facts first (a new customer has none).
        var previous = _facts;
        _factsLoaded = true;
        var changed = false;
        if (S.SourceConnector is null && input.SourceConnector is not null)
        {
            S.SourceConnector = input.SourceConnector;
            changed = true;
        }

        _facts = input.Facts;
        _factsChanged = true;
        _facts.SourceConnector = S.SourceConnector;
        _facts.Scores = previous?.Scores;
        var set = await catalog.GetAsync(Key.Workspace);
        // Primed first: the events of this activity may not be attributed to the customer in the log yet.
        changed |= await PrimeAsync(set, clock.GetUtcNow());
        foreach (var hit in input.Hits)
        {
            if (set.CountedEvents.ContainsKey(hit.Key) && S.Counted.TryGetValue(hit.Key, out var occurrences) && !occurrences.Exists(o => o.MessageId == hit.MessageId))
            {
                occurrences.Add(new CountedOccurrence(hit.MessageId, hit.At));
                changed = true;
            }
        }

        await EvaluateAsync(set, changed);
    }

    public async Task<bool> EvaluateAsync(CustomerFacts? seed, string segmentId, int version)
    {
        if (seed is not null)
        {
            var known = await LoadFactsAsync();
            seed.SourceConnector = S.SourceConnector ?? known?.SourceConnector;
            seed.Scores = known?.Scores;
            _facts = seed;
            _factsChanged = true;
        }
        else if (await LoadFactsAsync() is null)
        {
            return false;
        }

        await EvaluateAsync(await catalog.GetAsync(Key.Workspace, segmentId, version), false);
        return true;
    }

    public async Task WakeAsync()
    {
        var now = clock.GetUtcNow();
        if (S.NextDueAt is { } due && due > now)
        {
            ArmTimer(due);
            return;
        }

        if (await LoadFactsAsync() is null)
        {
            S.NextDueAt = null;
            await store.SetTimerAsync(Key.Workspace, Key.Customer, null);
            return;
        }

        await EvaluateAsync(await catalog.GetAsync(Key.Workspace), false);
    }

    public async Task UpdateLeadAsync(string stage)
    {
        if (await LoadFactsAsync() is not { } known || known.LeadStage == stage)
        {
            return;
        }

        known.LeadStage = stage;
        _factsChanged = true;
        await EvaluateAsync(await catalog.GetAsync(Key.Workspace), false);
    }

    public async Task EraseAsync()
    {
        if (await LoadFactsAsync() is not { } known || known.Traits.Count == 0 && known.Consents.Count == 0)
        {
            return;
        }

        known.Traits = new Dictionary<string, string>();
        known.Consents = new Dictionary<string, bool>();
        _factsChanged = true;
        await EvaluateAsync(await catalog.GetAsync(Key.Workspace), false);
    }

    public async Task UpdateScoresAsync(CustomerScores scores)
    {
        if (await LoadFactsAsync() is not { } known || known.Scores == scores)
        {
            return;
        }

        known.Scores = scores;
        _factsChanged = true;
        await EvaluateAsync(await catalog.GetAsync(Key.Workspace), false);
    }

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> GetMembershipsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(new Dictionary<string, DateTimeOffset>(S.Members, StringComparer.Ordinal));

    public bool IsMember(string segmentId) =>
        _evaluating is not null && _evaluating.TryGetValue(segmentId, out var member) ? member : S.Members.ContainsKey(segmentId);

    public int Count(EventCount condition, DateTimeOffset now)
    {
        if (!S.Counted.TryGetValue(condition.Key, out var occurrences))
        {
            return 0;
        }

        var from = now - condition.Within;
        var count = 0;
        foreach (var occurrence in occurrences)
        {
            if (occurrence.At > from)
            {
                count++;
            }
        }

        return count;
    }

    public DateTimeOffset? FirstLeavesWindow(EventCount condition, DateTimeOffset now)
    {
        if (!S.Counted.TryGetValue(condition.Key, out var occurrences))
        {
            return null;
        }

        var from = now - condition.Within;
        DateTimeOffset? first = null;
        foreach (var occurrence in occurrences)
        {
            if (occurrence.At > from && (first is null || occurrence.At < first))
            {
                first = occurrence.At;
            }
        }

        return first + condition.Within;
    }

    private async Task<CustomerFacts?> LoadFactsAsync()
    {
        if (!_factsLoaded)
        {
            _factsLoaded = true;
            if (await store.FactsAsync(Key.Workspace, Key.Customer) is { } json)
            {
                _facts = CustomerFacts.FromJson(json);
            }
        }

        return _facts;
    }

    private async Task EvaluateAsync(SegmentSet set, bool changed)
    {
        var (workspace, customer) = Key;
        var now = clock.GetUtcNow();
        if (set.UsesScores && _scoresVersion != set.ScoresVersion)
        {
            _facts!.Scores = await store.ScoresAsync(workspace, customer);
            _scoresVersion = set.ScoresVersion;
        }

        changed |= await PrimeAsync(set, now);
        changed |= Prune(set, now);

        var current = new Dictionary<string, bool>(StringComparer.Ordinal);
        DateTimeOffset? next = null;
        _evaluating = current;
        try
        {
            foreach (var segment in set.Ordered)
            {
                current[segment.Id] = RuleEvaluator.Holds(segment.Rule, this, now, set.Lifecycle);
                if (RuleEvaluator.NextChange(segment.Rule, this, now, set.Lifecycle) is { } at && (next is null || at < next))
                {
                    next = at;
                }
            }
        }
        finally
        {
            _evaluating = null;
        }

        var entered = current.Where(c => c.Value && !S.Members.ContainsKey(c.Key)).Select(c => c.Key).ToList();
        var exited = current.Where(c => !c.Value && S.Members.ContainsKey(c.Key)).Select(c => c.Key).ToList();
        var gone = S.Members.Keys.Where(id => !current.ContainsKey(id)).ToList();
        if (entered.Count > 0 || exited.Count > 0)
        {
            await store.ApplyMembershipAsync(workspace, customer, entered, exited, now);
        }

        foreach (var id in entered)
        {
            S.Members[id] = now;
        }

        foreach (var id in exited.Concat(gone))
        {
            S.Members.Remove(id);
        }

        changed |= entered.Count > 0 || exited.Count > 0 || gone.Count > 0;
        if (next != S.NextDueAt)
        {
            await store.SetTimerAsync(workspace, customer, next);
            S.NextDueAt = next;
            changed = true;
        }

        if (next is { } due && due - now < ExactTimerHorizon)
        {
            ArmTimer(due);
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }

        if (_factsChanged)
        {
            // Serialised by the writer, once per gathering window, not here on every event.
            _factsChanged = false;
            facts.Enqueue(workspace, customer, _facts!);
        }
    }

    /// <summary>A condition this grain has not counted yet is primed from the customer's stored events.</summary>
    private async Task<bool> PrimeAsync(SegmentSet set, DateTimeOffset now)
    {
        var missing = set.CountedEvents.Values.Where(c => !S.Counted.ContainsKey(c.Key)).ToList();
        if (missing.Count == 0)
        {
            return false;
        }

        var (workspace, customer) = Key;
        var history = await eventLog.ReadCustomerEventsAsync(workspace, customer, 0, CancellationToken.None);
        foreach (var condition in missing)
        {
            var from = now - condition.Within;
            S.Counted[condition.Key] = history
                .Where(e => e.Timestamp > from && EventMatcher.Matches(condition, e.Type, e.Name, e.Payload))
                .Select(e => new CountedOccurrence(e.MessageId, e.Timestamp)).ToList();
        }

        return true;
    }

    private bool Prune(SegmentSet set, DateTimeOffset now)
    {
        var changed = false;
        foreach (var key in S.Counted.Keys.ToList())
        {
            if (!set.CountedEvents.TryGetValue(key, out var condition))
            {
                S.Counted.Remove(key);
                changed = true;
                continue;
            }

            changed |= S.Counted[key].RemoveAll(o => o.At <= now - condition.Within) > 0;
        }

        return changed;
    }

    private async Task OnTimerAsync()
    {
        _timer?.Dispose();
        _timer = null;
        if (await LoadFactsAsync() is not null)
        {
            await EvaluateAsync(await catalog.GetAsync(Key.Workspace), false);
        }
    }

    private void ArmTimer(DateTimeOffset due)
    {
        _timer?.Dispose();
        var delay = due - clock.GetUtcNow();
        _timer = this.RegisterGrainTimer(static (grain, _) => grain.OnTimerAsync(), this,
            new GrainTimerCreationOptions(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan) { Interleave = false });
    }
}
