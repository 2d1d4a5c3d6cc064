using System.Text.Json;
using Modulith.Customers.Contracts;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Ingestion.Contracts;

namespace Modulith.Customers.Profiles;

/// <summary>Reads profiles (following merges) and undoes merges.</summary>
internal sealed class CustomerQueries(IGrainFactory grains, IEventLog eventLog, CustomerDirectoryStore directory) : ICustomerDirectory
{
    private const int MaxForwards = 8;

    public static bool IsValidCustomerId(string id) => id.Length is > 4 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    public async Task<CustomerProfile?> GetProfileAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default) =>
        (await ResolveAsync(workspaceId, customerId)) is { ErasedAt: null } state ? ToProfile(state) : null;

    public async Task<string?> FindAsync(string workspaceId, string kind, string value, CancellationToken cancellationToken = default)
    {
        var owner = await grains.GetGrain<IIdentityGrain>(new IdentityKey(kind, value).GrainKey(workspaceId)).GetOwnerAsync();
        return owner is null ? null : (await ResolveAsync(workspaceId, owner))?.Id;
    }

    public Task<IReadOnlyList<CustomerListItem>> ListAsync(string workspaceId, string? afterId, int limit, CancellationToken cancellationToken = default) =>
        directory.SearchAsync(workspaceId, null, afterId, limit, cancellationToken);

    public Task<long> CountAsync(string workspaceId, CancellationToken cancellationToken = default) => directory.CountAsync(workspaceId, cancellationToken);

    public Task<IReadOnlyDictionary<string, CustomerListItem>> DescribeAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken = default) =>
        directory.DescribeAsync(workspaceId, customerIds, cancellationToken);

    /// <summary>The profile, following merges to the surviving profile.</summary>
    public async Task<CustomerState?> ResolveAsync(string workspaceId, string customerId)
    {
        if (!IsValidCustomerId(customerId))
        {
            return null;
        }

        for (var hop = 0; hop < MaxForwards; hop++)
        {
            var state = await Customer(workspaceId, customerId).GetStateAsync();
            if (state?.ForwardedTo is null)
            {
                return state;
            }

            customerId = state.ForwardedTo;
        }

        return null;
    }

    public async Task<(IReadOnlyList<TimelineEntry> Entries, string? NextCursor)?> TimelineAsync(
        string workspaceId, string customerId, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var state = await ResolveAsync(workspaceId, customerId);
        if (state is null || state.ErasedAt is not null)
        {
            return null;
        }

        var ids = new List<string> { state.Id };
        ids.AddRange(state.AbsorbedCustomerIds);
        var (events, next) = await eventLog.ReadTimelineAsync(workspaceId, ids, cursor, limit, cancellationToken);
        return (events.Select(e => new TimelineEntry(e.Sequence, e.MessageId, e.Type, e.Name, e.Timestamp, e.ReceivedAt, JsonSerializer.Deserialize<JsonElement>(e.Payload))).ToList(), next);
    }

    /// <summary>Undoes a merge. Answers both restored profiles, or null when the profile has no such merge.</summary>
    public async Task<(CustomerProfile Survivor, CustomerProfile Restored)?> UnmergeAsync(string workspaceId, string customerId, string? sourceCustomerId, CancellationToken cancellationToken)
    {
        var state = await ResolveAsync(workspaceId, customerId);
        if (state is null || state.Merges.Count == 0)
        {
            return null;
        }

        sourceCustomerId ??= state.Merges[^1].SourceCustomerId;
        var record = state.Merges.Find(m => m.SourceCustomerId == sourceCustomerId);
        if (record is null)
        {
            return null;
        }

        var survivor = Customer(workspaceId, state.Id);
        var source = await survivor.UnmergeAsync(sourceCustomerId);
        if (source is null)
        {
            return null;
        }

        await Customer(workspaceId, sourceCustomerId).RestoreAsync(source);
        foreach (var identity in record.SourceIdentities)
        {
            await grains.GetGrain<IIdentityGrain>(new IdentityKey(identity.Kind, identity.Value).GrainKey(workspaceId)).RepointAsync(state.Id, sourceCustomerId);
        }

        var survivorState = (await survivor.GetStateAsync())!;
        var restoredState = (await Customer(workspaceId, sourceCustomerId).GetStateAsync())!;
        await directory.UpsertAsync(workspaceId, [CustomerListEntry.Of(survivorState), CustomerListEntry.Of(restoredState)], cancellationToken);
        return (ToProfile(survivorState), ToProfile(restoredState));
    }

    private ICustomerGrain Customer(string workspaceId, string customerId) => grains.GetGrain<ICustomerGrain>($"{workspaceId}/{customerId}");

    public static CustomerProfile ToProfile(CustomerState s) => new(
        s.Id,
        s.FirstSeen,
        s.LastSeen,
        s.Identities.Select(i => new CustomerIdentity(i.Kind, i.Value, i.FirstSeen)).ToList(),
        s.Traits.ToDictionary(t => t.Key, t => JsonSerializer.Deserialize<JsonElement>(t.Value)),
        s.Consents.ToDictionary(c => c.Key, c => new CustomerConsent(c.Value.Granted, c.Value.Source, c.Value.At)),
        new CustomerOrders(s.Orders.Count, s.Orders.Revenue, s.Orders.Count == 0 ? 0 : Math.Round(s.Orders.Revenue / s.Orders.Count, 2), s.Orders.Currency, s.Orders.FirstOrderAt, s.Orders.LastOrderAt, s.Orders.Refunded),
        s.Touchpoints.Select(t => new CustomerTouchpoint(t.At, t.Channel, t.Source, t.Medium, t.Campaign, t.Referrer, t.ClickId, t.LandingPage)).ToList(),
        new CustomerMetrics(s.Counters.Events, s.Counters.ProductViews, s.Counters.PageViews, s.Counters.Sessions, s.Counters.TimeOnSiteSeconds, s.Counters.EventCounts),
        s.RecentEvents.OrderByDescending(r => r.Timestamp).ThenByDescending(r => r.Sequence).Select(r => new CustomerEventSummary(r.Sequence, r.MessageId, r.Type, r.Name, r.Timestamp)).ToList(),
        s.Merges.Select(m => new CustomerMerge(m.SourceCustomerId, m.At, m.Reason)).ToList(),
        s.Conflicts.Select(c => new CustomerConflict(c.At, c.Identity, c.OtherCustomerId, c.Reason)).ToList());
}
