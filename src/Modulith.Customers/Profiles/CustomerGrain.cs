using System.Text.Json;
using Microsoft.Extensions.Options;
using Modulith.Ingestion.Contracts;
using Orleans.Concurrency;

namespace Modulith.Customers.Profiles;

/// <summary>One customer's profile; key <c>{workspace}/{customerId}</c>.</summary>
internal interface ICustomerGrain : IGrainWithStringKey
{
    /// <summary>Applies events idempotently; answers where they belong instead when this profile was merged away.</summary>
    Task<ApplyOutcome> ApplyAsync(IReadOnlyList<IngestedEvent> events);

    /// <summary>The state, or null when the profile does not exist. The first call of an activation reads the recent events back from the event log.</summary>
    [ReadOnly]
    Task<CustomerState?> GetStateAsync();

    /// <summary>What identity resolution needs to decide a merge: where this profile forwards to, and its userIds.</summary>
    [ReadOnly]
    Task<MergeInfo> GetMergeInfoAsync();

    /// <summary>Marks this profile as merged into the survivor and hands over its state (idempotent).</summary>
    Task<CustomerState?> HandOffAsync(string survivorId);

    /// <summary>
    /// Absorbs a merged-away profile and records the merge so it can be undone (idempotent). When this profile was itself
    /// merged away meanwhile, the source is passed on to the survivor. Answers the profile that absorbed it.
    /// </summary>
    Task<string> AbsorbAsync(CustomerState source, string reason);

    /// <summary>Records an identity conflict that was not merged; <paramref name="disputed"/> is an identifier this profile must not hold.</summary>
    Task RecordConflictAsync(IdentityConflict conflict, string? disputed);

    /// <summary>Undoes the merge of <paramref name="sourceCustomerId"/>: answers the source's state at the merge, or null if there was no such merge.</summary>
    Task<CustomerState?> UnmergeAsync(string sourceCustomerId);

    /// <summary>Restores a merged-away profile to the given state (after unmerge).</summary>
    Task RestoreAsync(CustomerState state);

    /// <summary>
    /// Erases the person's data (traits, identities, consents, touchpoints, recent events, merge snapshots); keeps only
    /// anonymous aggregates (order and event counts). Answers what was erased so the caller can release the identifiers
    /// and the profiles merged into this one (idempotent: a second call answers nothing new).
    /// </summary>
    Task<ErasedData> EraseAsync();
}

[GenerateSerializer, Immutable, Alias("modulith.customers.ErasedData")]
internal sealed record ErasedData([property: Id(0)] IReadOnlyList<string> Identities, [property: Id(1)] IReadOnlyList<string> CustomerIds);

[GenerateSerializer, Immutable, Alias("modulith.customers.MergeInfo")]
internal sealed record MergeInfo([property: Id(0)] string? ForwardedTo, [property: Id(1)] IReadOnlyList<string> UserIds);

[GenerateSerializer, Alias("modulith.customers.ApplyOutcome")]
internal sealed record ApplyOutcome([property: Id(0)] string? ForwardedTo, [property: Id(1)] CustomerListEntry? Summary);

[GenerateSerializer, Alias("modulith.customers.CustomerListEntry")]
internal sealed record CustomerListEntry(
    [property: Id(0)] string Id,
    [property: Id(1)] string? UserId,
    [property: Id(2)] string? Email,
    [property: Id(3)] string? Phone,
    [property: Id(4)] string? Name,
    [property: Id(5)] DateTimeOffset? LastSeen,
    [property: Id(6)] string? MergedInto)
{
    public static CustomerListEntry Of(CustomerState state)
    {
        string? First(string kind) => state.Identities.FirstOrDefault(i => i.Kind == kind)?.Value;
        // Traits are stored as JSON text; only string traits are listed, read without building a document.
        string? Trait(string name) => state.Traits.TryGetValue(name, out var json) && json.StartsWith('"') ? JsonSerializer.Deserialize<string>(json) : null;
        var name = Trait("name") ?? string.Join(' ', new[] { Trait("firstName") ?? Trait("first_name"), Trait("lastName") ?? Trait("last_name") }.Where(n => n is not null));
        return new CustomerListEntry(state.Id, First("userId"), First("email"), First("phone"), string.IsNullOrWhiteSpace(name) ? null : name, state.LastSeen, state.ForwardedTo);
    }
}

/// <summary>Customers module options (<c>Modulith:Customers</c>).</summary>
public sealed class CustomersOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Customers";

    /// <summary>ISO 3166 region for phone numbers sent without a country code (e.g. PL); without it such numbers are ignored.</summary>
    public string? DefaultPhoneRegion { get; set; }
}

internal sealed class CustomerGrain(
    [PersistentState("customer", "customers")] IPersistentState<CustomerState> state,
    IEventLog eventLog,
    IOptions<CustomersOptions> options,
    IEnumerable<Contracts.ICustomerActivityObserver> observers,
    TimeProvider clock) : Grain, ICustomerGrain
{
    private readonly Contracts.ICustomerActivityObserver[] _observers = observers.ToArray();

    private CustomerListEntry? _lastSummary;

    // The recent events are not stored (docs/adr/0013): set once this activation has read them back from the event log.
    private Task? _recentEventsRead;

    private CustomerState S => state.State;

    private (string Workspace, string Customer) Key
    {
        get
        {
            var key = this.GetPrimaryKeyString();
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            return (key[..slash], key[(slash + 1)..]);
        }
    }

    public async Task<ApplyOutcome> ApplyAsync(IReadOnlyList<IngestedEvent> events)
    {
        if (S.ForwardedTo is { } survivor)
        {
            return new ApplyOutcome(survivor, null);
        }

        var changed = EnsureCreated();
        foreach (var e in events.OrderBy(e => e.Timestamp).ThenBy(e => e.Sequence))
        {
            changed |= ProfileFolder.Apply(S, e, options.Value.DefaultPhoneRegion);
        }

        // The state write and the observers are independent and each waits for a commit: they run side by side. The
        // event stays undispatched until all of them succeeded; a failure redelivers it to all (they are idempotent).
        var work = new List<Task>(_observers.Length + 1);
        if (changed)
        {
            work.Add(state.WriteStateAsync());
        }

        if (_observers.Length > 0 && S.ErasedAt is null)
        {
            // Redelivered events go to observers too: an observer may have failed after this grain applied them.
            var activity = new Contracts.CustomerActivity(Key.Workspace, S.Id,
                events.Select(e => new Contracts.ActivityEvent(e.MessageId, e.Sequence, e.Type, e.Name, e.Timestamp, e.Payload, TouchOf(e.MessageId))).ToList(), Snapshot(S));
            foreach (var observer in _observers)
            {
                work.Add(observer.OnActivityAsync(activity));
            }
        }

        await Task.WhenAll(work);

        // The search directory needs an update when a listed field changed; its lastSeen is kept to the hour.
        var summary = CustomerListEntry.Of(S);
        if (_lastSummary is not null && summary with { LastSeen = _lastSummary.LastSeen } == _lastSummary &&
            summary.LastSeen - _lastSummary.LastSeen < TimeSpan.FromHours(1))
        {
            return new ApplyOutcome(null, null);
        }

        _lastSummary = summary;
        return new ApplyOutcome(null, summary);
    }

    public async Task<CustomerState?> GetStateAsync()
    {
        if (!S.Exists)
        {
            return null;
        }

        if (S.ErasedAt is null)
        {
            await (_recentEventsRead ??= ReadRecentEventsAsync());
        }

        return S;
    }

    private async Task ReadRecentEventsAsync()
    {
        try
        {
            // Events this activation applied are already among them; the log has the earlier ones under this profile's id
            // and the ids of the profiles merged into it.
            var (events, _) = await eventLog.ReadTimelineAsync(Key.Workspace, [S.Id, .. S.AbsorbedCustomerIds], null, CustomerState.RecentEventCount, CancellationToken.None);
            ProfileFolder.AddRecentEvents(S, events);
        }
        catch
        {
            _recentEventsRead = null;
            throw;
        }
    }

    public Task<MergeInfo> GetMergeInfoAsync() =>
        Task.FromResult(new MergeInfo(S.ForwardedTo, S.Identities.Where(i => i.Kind == Identity.IdentityKey.UserId).Select(i => i.Value).ToList()));

    public async Task<CustomerState?> HandOffAsync(string survivorId)
    {
        if (S.ForwardedTo is not null)
        {
            return S.ForwardedTo == survivorId ? S : null;
        }

        EnsureCreated();
        S.ForwardedTo = survivorId;
        await state.WriteStateAsync();
        return S;
    }

    public async Task<string> AbsorbAsync(CustomerState source, string reason)
    {
        if (S.ForwardedTo is { } survivor)
        {
            if (survivor != source.Id)
            {
                return await GrainFactory.GetGrain<ICustomerGrain>($"{Key.Workspace}/{survivor}").AbsorbAsync(source, reason);
            }

            // This profile and the source were handed over to each other, which merges taking turns now prevent but
            // stored states may still show: passing the source on would call it while it waits for this call. This
            // profile takes it back instead, and the source's forward to this one ends the cycle.
            S.ForwardedTo = null;
        }

        if (S.Merges.Exists(m => m.SourceCustomerId == source.Id))
        {
            return S.Id;
        }

        EnsureCreated();
        var before = StateJson.Serialize(S);
        var record = new MergeRecord
        {
            SourceCustomerId = source.Id,
            At = clock.GetUtcNow(),
            Reason = reason,
            TargetBefore = before,
            Source = StateJson.Serialize(source),
            SequenceAtMerge = Math.Max(S.LastSequence, source.LastSequence),
            SourceIdentities = [.. source.Identities],
        };
        ProfileFolder.Absorb(S, source);
        S.Merges.Add(record);
        await state.WriteStateAsync();
        _recentEventsRead = null;
        return S.Id;
    }

    public async Task RecordConflictAsync(IdentityConflict conflict, string? disputed)
    {
        if (S.Conflicts.Exists(c => c.Identity == conflict.Identity && c.OtherCustomerId == conflict.OtherCustomerId))
        {
            return;
        }

        EnsureCreated();
        if (disputed is not null && !S.DisputedIdentities.Contains(disputed))
        {
            S.DisputedIdentities.Add(disputed);
            S.Identities.RemoveAll(i => $"{i.Kind}:{i.Value}" == disputed);
        }

        S.Conflicts.Add(conflict);
        if (S.Conflicts.Count > 100)
        {
            S.Conflicts.RemoveAt(0);
        }

        await state.WriteStateAsync();
    }

    public async Task<CustomerState?> UnmergeAsync(string sourceCustomerId)
    {
        var index = S.Merges.FindIndex(m => m.SourceCustomerId == sourceCustomerId);
        if (index < 0)
        {
            return null;
        }

        var record = S.Merges[index];
        var restored = StateJson.Deserialize(record.TargetBefore);
        // Merges made after this one stay: their sources are absorbed again.
        foreach (var later in S.Merges.Skip(index + 1))
        {
            ProfileFolder.Absorb(restored, StateJson.Deserialize(later.Source));
            restored.Merges.Add(later);
        }

        // Events attributed to this profile after the merge stay with it.
        var (workspace, customer) = Key;
        foreach (var e in await eventLog.ReadCustomerEventsAsync(workspace, customer, record.SequenceAtMerge, CancellationToken.None))
        {
            ProfileFolder.Apply(restored, e, options.Value.DefaultPhoneRegion);
        }

        // The identifiers that came with the source go back to it, even if an event after the merge carried them here.
        var kept = restored.Identities.Where(i => !record.SourceIdentities.Exists(s => s.Kind == i.Kind && s.Value == i.Value) ||
            StateJson.Deserialize(record.TargetBefore).Identities.Exists(b => b.Kind == i.Kind && b.Value == i.Value)).ToList();
        foreach (var moved in restored.Identities.Except(kept))
        {
            restored.DisputedIdentities.Add($"{moved.Kind}:{moved.Value}");
        }

        restored.Identities = kept;
        restored.Conflicts = S.Conflicts;
        state.State = restored;
        await state.WriteStateAsync();
        _recentEventsRead = null;
        var source = StateJson.Deserialize(record.Source);
        source.ForwardedTo = null;
        return source;
    }

    public async Task RestoreAsync(CustomerState restored)
    {
        restored.ForwardedTo = null;
        state.State = restored;
        await state.WriteStateAsync();
        _recentEventsRead = null;
    }

    public async Task<ErasedData> EraseAsync()
    {
        if (!S.Exists)
        {
            return new ErasedData([], []);
        }

        var identities = S.Identities.Select(i => $"{i.Kind}:{i.Value}")
            .Concat(S.Merges.SelectMany(m => m.SourceIdentities.Select(i => $"{i.Kind}:{i.Value}")))
            .Distinct(StringComparer.Ordinal).ToList();
        var customers = S.AbsorbedCustomerIds.Concat(S.Merges.Select(m => m.SourceCustomerId)).Distinct(StringComparer.Ordinal).ToList();
        S.Identities.Clear();
        S.Traits.Clear();
        S.Consents.Clear();
        S.Touchpoints.Clear();
        S.RecentEvents.Clear();
        S.Merges.Clear();
        S.Conflicts.Clear();
        S.DisputedIdentities.Clear();
        S.GroupIds.Clear();
        S.ErasedAt ??= clock.GetUtcNow();
        await state.WriteStateAsync();
        _lastSummary = null;
        return new ErasedData(identities, customers);
    }

    private Contracts.CustomerTouchpoint? TouchOf(string messageId)
    {
        // Recent touches are at the end; only events of this batch are looked up.
        for (var i = S.Touchpoints.Count - 1; i >= 0; i--)
        {
            var t = S.Touchpoints[i];
            if (t.MessageId == messageId)
            {
                return new Contracts.CustomerTouchpoint(t.At, t.Channel, t.Source, t.Medium, t.Campaign, t.Referrer, t.ClickId, t.LandingPage);
            }
        }

        return null;
    }

    private static Contracts.CustomerSnapshot Snapshot(CustomerState s)
    {
        var orders = s.Orders;
        var first = s.Touchpoints.Count > 0 ? s.Touchpoints[0] : null;
        return new Contracts.CustomerSnapshot(
            s.Identities.Exists(i => i.Kind == Identity.IdentityKey.Email),
            s.Identities.Exists(i => i.Kind == Identity.IdentityKey.Phone),
            s.Traits,
            new Contracts.CustomerMetrics(s.Counters.Events, s.Counters.ProductViews, s.Counters.PageViews, s.Counters.Sessions, s.Counters.TimeOnSiteSeconds, s.Counters.EventCounts),
            new Contracts.CustomerOrders(orders.Count, orders.Revenue, orders.Count == 0 ? 0 : Math.Round(orders.Revenue / orders.Count, 2), orders.Currency, orders.FirstOrderAt, orders.LastOrderAt, orders.Refunded),
            first is null ? null : new Contracts.CustomerTouchpoint(first.At, first.Channel, first.Source, first.Medium, first.Campaign, first.Referrer, first.ClickId, first.LandingPage),
            s.Consents.ToDictionary(c => c.Key, c => c.Value.Granted, StringComparer.Ordinal),
            s.FirstSeen,
            s.LastSeen,
            s.AbsorbedCustomerIds,
            new RecentSequenceView(s.RecentEvents));
    }

    private bool EnsureCreated()
    {
        if (S.Exists)
        {
            return false;
        }

        var (workspace, customer) = Key;
        S.Id = customer;
        S.WorkspaceId = workspace;
        S.CreatedAt = clock.GetUtcNow();
        return true;
    }
}

/// <summary>The stored JSON form of customer state (snapshots for unmerge use the same form as grain storage).</summary>
internal static class StateJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Serialize(CustomerState state) => JsonSerializer.Serialize(state, Options);

    public static CustomerState Deserialize(string json) => JsonSerializer.Deserialize<CustomerState>(json, Options) ?? new CustomerState();
}
