namespace Modulith.Customers.Contracts;

/// <summary>The single customer view.</summary>
/// <param name="Id">The customer id.</param>
/// <param name="FirstSeen">The first event's time.</param>
/// <param name="LastSeen">The latest event's time.</param>
/// <param name="Identities">Every identifier linked to this customer.</param>
/// <param name="Traits">Traits as reported (identify traits win over context traits).</param>
/// <param name="Consents">Consents as reported, per purpose or channel.</param>
/// <param name="Orders">The order summary.</param>
/// <param name="Touchpoints">Marketing touches (visits with their source), oldest first; the first touch is always kept.</param>
/// <param name="Metrics">Counters used by scoring and segmentation.</param>
/// <param name="RecentEvents">The latest events (the full history is at <c>/timeline</c>).</param>
/// <param name="MergedFrom">Profiles merged into this one (each can be undone with unmerge).</param>
/// <param name="Conflicts">Identity conflicts recorded instead of merging (e.g. two different userIds).</param>
public sealed record CustomerProfile(
    string Id,
    DateTimeOffset? FirstSeen,
    DateTimeOffset? LastSeen,
    IReadOnlyList<CustomerIdentity> Identities,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement> Traits,
    IReadOnlyDictionary<string, CustomerConsent> Consents,
    CustomerOrders Orders,
    IReadOnlyList<CustomerTouchpoint> Touchpoints,
    CustomerMetrics Metrics,
    IReadOnlyList<CustomerEventSummary> RecentEvents,
    IReadOnlyList<CustomerMerge> MergedFrom,
    IReadOnlyList<CustomerConflict> Conflicts);

/// <summary>One identifier.</summary>
/// <param name="Kind">userId, anonymousId, email or phone.</param>
/// <param name="Value">The normalised value.</param>
/// <param name="FirstSeen">When it was first linked.</param>
public sealed record CustomerIdentity(string Kind, string Value, DateTimeOffset FirstSeen);

/// <summary>A consent as reported.</summary>
/// <param name="Granted">Given or withdrawn.</param>
/// <param name="Source">Where it was reported.</param>
/// <param name="At">When.</param>
public sealed record CustomerConsent(bool Granted, string Source, DateTimeOffset At);

/// <summary>The order summary.</summary>
/// <param name="Count">Orders placed.</param>
/// <param name="Revenue">Their total.</param>
/// <param name="AverageOrderValue">Revenue divided by count.</param>
/// <param name="Currency">The currency of the first order.</param>
/// <param name="FirstOrderAt">The first order's time.</param>
/// <param name="LastOrderAt">The latest order's time.</param>
/// <param name="Refunded">The refunded total.</param>
public sealed record CustomerOrders(int Count, decimal Revenue, decimal AverageOrderValue, string? Currency, DateTimeOffset? FirstOrderAt, DateTimeOffset? LastOrderAt, decimal Refunded);

/// <summary>A marketing touch.</summary>
/// <param name="At">When.</param>
/// <param name="Channel">direct, organic_search, paid_search, organic_social, paid_social, email, sms, referral, affiliate, display.</param>
/// <param name="Source">utm_source.</param>
/// <param name="Medium">utm_medium.</param>
/// <param name="Campaign">utm_campaign.</param>
/// <param name="Referrer">The external referrer.</param>
/// <param name="ClickId">gclid or fbclid, prefixed with its kind.</param>
/// <param name="LandingPage">The first page of the visit.</param>
public sealed record CustomerTouchpoint(DateTimeOffset At, string Channel, string? Source, string? Medium, string? Campaign, string? Referrer, string? ClickId, string? LandingPage);

/// <summary>Counters used by scoring and segmentation.</summary>
/// <param name="Events">Events applied.</param>
/// <param name="ProductViews">Product Viewed events.</param>
/// <param name="PageViews">page and screen events.</param>
/// <param name="Sessions">Sessions (a session ends after 30 minutes without events).</param>
/// <param name="TimeOnSiteSeconds">Per session from the first to the last event, summed.</param>
/// <param name="EventCounts">track events by name.</param>
public sealed record CustomerMetrics(long Events, long ProductViews, long PageViews, long Sessions, double TimeOnSiteSeconds, IReadOnlyDictionary<string, long> EventCounts);

/// <summary>An event on the timeline.</summary>
/// <param name="Sequence">Its position in the event log.</param>
/// <param name="MessageId">The client's message id.</param>
/// <param name="Type">track, identify, page, screen, group, alias.</param>
/// <param name="Name">The event or page name.</param>
/// <param name="Timestamp">When it happened.</param>
public sealed record CustomerEventSummary(long Sequence, string MessageId, string Type, string? Name, DateTimeOffset Timestamp);

/// <summary>A merge that can be undone.</summary>
/// <param name="CustomerId">The profile merged into this one.</param>
/// <param name="At">When.</param>
/// <param name="Reason">Which identifier linked them.</param>
public sealed record CustomerMerge(string CustomerId, DateTimeOffset At, string Reason);

/// <summary>An identity conflict that was recorded instead of merging.</summary>
/// <param name="At">When.</param>
/// <param name="Identity">The identifier both profiles claim.</param>
/// <param name="OtherCustomerId">The other profile.</param>
/// <param name="Reason">Why they were not merged.</param>
public sealed record CustomerConflict(DateTimeOffset At, string Identity, string OtherCustomerId, string Reason);

/// <summary>One event of the full timeline.</summary>
/// <param name="Sequence">Its position in the event log.</param>
/// <param name="MessageId">The client's message id.</param>
/// <param name="Type">track, identify, page, screen, group, alias.</param>
/// <param name="Name">The event or page name.</param>
/// <param name="Timestamp">When it happened.</param>
/// <param name="ReceivedAt">When it was received.</param>
/// <param name="Event">The stored Segment-shaped event.</param>
public sealed record TimelineEntry(long Sequence, string MessageId, string Type, string? Name, DateTimeOffset Timestamp, DateTimeOffset ReceivedAt, System.Text.Json.JsonElement Event);

/// <summary>A customer in search results.</summary>
/// <param name="Id">The customer id.</param>
/// <param name="UserId">The first userId.</param>
/// <param name="Email">The first email.</param>
/// <param name="Phone">The first phone.</param>
/// <param name="Name">The name from traits.</param>
/// <param name="LastSeen">The latest event's time.</param>
public sealed record CustomerListItem(string Id, string? UserId, string? Email, string? Phone, string? Name, DateTimeOffset? LastSeen);

/// <summary>The Customers module's facade for other modules.</summary>
public interface ICustomerDirectory
{
    /// <summary>The single customer view; null when there is no such customer in the workspace.</summary>
    Task<CustomerProfile?> GetProfileAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default);

    /// <summary>The customer an identifier (userId, anonymousId, email, phone) belongs to.</summary>
    Task<string?> FindAsync(string workspaceId, string kind, string value, CancellationToken cancellationToken = default);

    /// <summary>Active (not merged-away) customers ordered by id, after <paramref name="afterId"/>.</summary>
    Task<IReadOnlyList<CustomerListItem>> ListAsync(string workspaceId, string? afterId, int limit, CancellationToken cancellationToken = default);

    /// <summary>How many active customers the workspace has.</summary>
    Task<long> CountAsync(string workspaceId, CancellationToken cancellationToken = default);

    /// <summary>The listed fields (ids, email, phone, name) of the given customers; unknown ids are left out.</summary>
    Task<IReadOnlyDictionary<string, CustomerListItem>> DescribeAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken = default);
}

/// <summary>What an erasure removed.</summary>
/// <param name="CustomerId">The erased profile.</param>
/// <param name="ProfilesErased">The profile and the profiles merged into it.</param>
/// <param name="IdentitiesReleased">Identifiers (email, phone, ids) no longer linked to anyone.</param>
/// <param name="EventsErased">Stored events whose payload and identifiers were removed.</param>
public sealed record CustomerErasure(string CustomerId, int ProfilesErased, int IdentitiesReleased, int EventsErased);

/// <summary>The Customers module's privacy facade (erasure requests from the API and from platform connectors).</summary>
public interface ICustomerPrivacy
{
    /// <summary>
    /// Erases a person's data: profile traits, identities, consents, touchpoints, the stored events' payloads (also of
    /// events not applied yet) and the search entry, also of the profiles merged into it; anonymous counts stay.
    /// Idempotent. Null when there is no such customer.
    /// </summary>
    Task<CustomerErasure?> EraseAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default);
}
