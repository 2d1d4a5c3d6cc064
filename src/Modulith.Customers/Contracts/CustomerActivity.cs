namespace Modulith.Customers.Contracts;

/// <summary>One event as applied to a profile, for modules that follow customers' behaviour (leads, segments).</summary>
/// <param name="MessageId">The event's message id (observers deduplicate on it: delivery is at least once).</param>
/// <param name="Sequence">Its position in the event log.</param>
/// <param name="Type">track, identify, page, screen, group, alias.</param>
/// <param name="Name">The event or page name.</param>
/// <param name="Timestamp">When it happened.</param>
/// <param name="Payload">The stored Segment-shaped event (JSON).</param>
/// <param name="Touchpoint">The marketing touch this event recorded (a visit with its source), if it recorded one.</param>
public sealed record ActivityEvent(string MessageId, long Sequence, string Type, string? Name, DateTimeOffset Timestamp, string Payload, CustomerTouchpoint? Touchpoint = null);

/// <summary>What observers need of the profile after the events were applied.</summary>
/// <param name="HasEmail">An email is known.</param>
/// <param name="HasPhone">A phone number is known.</param>
/// <param name="Traits">Trait values as raw JSON, by name.</param>
/// <param name="Metrics">The profile's counters (time on site, sessions, event counts).</param>
/// <param name="Orders">The order summary.</param>
/// <param name="FirstTouch">The first marketing touch (source and campaign of the customer).</param>
/// <param name="Consents">Consents by purpose or channel: granted or not.</param>
/// <param name="FirstSeen">The first event's time.</param>
/// <param name="LastSeen">The latest event's time.</param>
/// <param name="MergedCustomerIds">The profiles merged into this one: their events in the log still carry their ids.</param>
/// <param name="RecentSequences">
/// The log sequences of the profile's latest events (at most 50) this grain's activation has applied or read back. Some
/// may belong to drains of other partitions still under way, which have not yet recorded their customer in the log:
/// read those by sequence (<c>IEventLog.ReadEventsAsync</c>). A live view of the grain's state: read it before any await.
/// </param>
public sealed record CustomerSnapshot(
    bool HasEmail,
    bool HasPhone,
    IReadOnlyDictionary<string, string> Traits,
    CustomerMetrics Metrics,
    CustomerOrders Orders,
    CustomerTouchpoint? FirstTouch,
    IReadOnlyDictionary<string, bool> Consents,
    DateTimeOffset? FirstSeen = null,
    DateTimeOffset? LastSeen = null,
    IReadOnlyList<string>? MergedCustomerIds = null,
    IReadOnlyList<long>? RecentSequences = null)
{
    /// <summary>An email or a phone number is known: the customer can be contacted, and so can be a lead.</summary>
    public bool IsKnownContact => HasEmail || HasPhone;
}

/// <summary>Events applied to one customer's profile, with the profile as it is afterwards.</summary>
/// <param name="WorkspaceId">The workspace.</param>
/// <param name="CustomerId">The customer (the surviving profile).</param>
/// <param name="Events">The events of the batch, including redelivered ones (observers deduplicate).</param>
/// <param name="Snapshot">The profile after applying them.</param>
public sealed record CustomerActivity(string WorkspaceId, string CustomerId, IReadOnlyList<ActivityEvent> Events, CustomerSnapshot Snapshot);

/// <summary>
/// Implemented by modules that follow customers (the Leads module scores on it). Called by the customer's grain after
/// every applied batch, in the dispatch path: an observer that throws makes the batch be delivered again, so
/// observers must be idempotent and quick. Observers run concurrently with each other and with the profile's own write:
/// none may rely on another having seen the batch first.
/// </summary>
public interface ICustomerActivityObserver
{
    /// <summary>Handles the activity.</summary>
    Task OnActivityAsync(CustomerActivity activity);
}

/// <summary>
/// Implemented by modules that keep what they learnt of a customer beside the profile (the Leads module's scored events
/// and profile facts, the Segmentation module's facts). Called once a person's profiles are erased, with every profile
/// erased (the one asked for and those merged into it); the erasure answers only after every observer did. Observers
/// must remove the person's data and keep only anonymous counts, and must be idempotent: a repeated erasure calls them again.
/// </summary>
public interface ICustomerErasureObserver
{
    /// <summary>Removes the person's data held for these profiles.</summary>
    Task OnErasedAsync(string workspaceId, IReadOnlyList<string> customerIds, CancellationToken cancellationToken);
}
