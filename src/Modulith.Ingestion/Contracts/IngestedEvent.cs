namespace Modulith.Ingestion.Contracts;

/// <summary>An event as it was validated, normalised and durably appended to the event log.</summary>
/// <param name="Sequence">The event's position in the log (unique, ascending by append).</param>
/// <param name="WorkspaceId">The workspace it belongs to.</param>
/// <param name="MessageId">The client's message id (deduplication key within the workspace).</param>
/// <param name="Type">track, identify, page, screen, group or alias.</param>
/// <param name="Name">The event name for track (GA4 names mapped to Segment e-commerce v2), the page or screen name otherwise.</param>
/// <param name="UserId">The shop's customer id, if sent.</param>
/// <param name="AnonymousId">The cookie or device id, if sent.</param>
/// <param name="PreviousId">For alias: the id being linked to <paramref name="UserId"/>.</param>
/// <param name="Timestamp">When it happened, corrected for client clock skew.</param>
/// <param name="ReceivedAt">When the platform received it.</param>
/// <param name="Payload">The normalised event as Segment-shaped JSON (properties, traits, context ...).</param>
[GenerateSerializer, Immutable, Alias("modulith.ingestion.IngestedEvent")]
public sealed record IngestedEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string WorkspaceId,
    [property: Id(2)] string MessageId,
    [property: Id(3)] string Type,
    [property: Id(4)] string? Name,
    [property: Id(5)] string? UserId,
    [property: Id(6)] string? AnonymousId,
    [property: Id(7)] string? PreviousId,
    [property: Id(8)] DateTimeOffset Timestamp,
    [property: Id(9)] DateTimeOffset ReceivedAt,
    [property: Id(10)] string Payload);

/// <summary>
/// Implemented by the module that turns events into customer state (Customers). The dispatcher hands it the
/// committed events of one workspace and moves its checkpoint only after this returns.
/// </summary>
public interface IIngestedEventConsumer
{
    /// <summary>
    /// Applies the events idempotently (they may be delivered again after a crash) and answers, for each event in
    /// order, the id of the customer it was attributed to.
    /// </summary>
    Task<IReadOnlyList<string>> ConsumeAsync(string workspaceId, IReadOnlyList<IngestedEvent> events, CancellationToken cancellationToken);
}

/// <summary>Reads the durable event log (the full history behind every customer's timeline).</summary>
public interface IEventLog
{
    /// <summary>
    /// A customer's events, newest first by timestamp, from any of the given customer ids (a profile and the profiles
    /// merged into it). Pass the answered cursor to read the next page; it is null on the last page.
    /// </summary>
    Task<(IReadOnlyList<IngestedEvent> Events, string? NextCursor)> ReadTimelineAsync(
        string workspaceId, IReadOnlyCollection<string> customerIds, string? cursor, int limit, CancellationToken cancellationToken);

    /// <summary>Every event attributed to the customer after the given sequence, oldest first (used to rebuild a profile).</summary>
    Task<IReadOnlyList<IngestedEvent>> ReadCustomerEventsAsync(string workspaceId, string customerId, long afterSequence, CancellationToken cancellationToken);

    /// <summary>
    /// The workspace's events with these log sequences, oldest first, whether dispatch has attributed them to a customer
    /// yet or not (a drain still under way has applied them but not yet recorded their customer).
    /// </summary>
    Task<IReadOnlyList<IngestedEvent>> ReadEventsAsync(string workspaceId, IReadOnlyCollection<long> sequences, CancellationToken cancellationToken);

    /// <summary>
    /// Every event of one type and name with a timestamp at or after <paramref name="since"/>, with the customer it was
    /// attributed to (segment previews count behaviour with it). Unordered; events not yet attributed are left out.
    /// </summary>
    IAsyncEnumerable<(string CustomerId, string? Name, DateTimeOffset Timestamp, string Payload)> StreamByNameAsync(
        string workspaceId, string type, string? name, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>
    /// Erases the personal data of the customers' events (privacy erasure): payloads and identifiers are removed, the
    /// event type, name and time stay for anonymous counts. Answers how many events were erased.
    /// </summary>
    Task<int> EraseCustomerEventsAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken);

    /// <summary>
    /// Erases, as <see cref="EraseCustomerEventsAsync"/> does, the events never attributed to a profile that carry one of
    /// the person's user ids or anonymous ids, or one of their emails anywhere in the payload, or that
    /// <paramref name="carriesTheirPhone"/> accepts: those set aside by dispatch (parked) and those still waiting for it.
    /// Phone numbers are written in too many ways for the log to compare them, so the events whose payload mentions a
    /// phone are offered to <paramref name="carriesTheirPhone"/>, which applies the caller's own rules.
    /// Answers how many, once a drain that had already read such an event has applied it, so that erasing the profile
    /// afterwards also removes what that drain applied; later drains skip the erased events.
    /// </summary>
    Task<int> EraseUnattributedEventsAsync(
        string workspaceId, IReadOnlyCollection<string> userIds, IReadOnlyCollection<string> anonymousIds, IReadOnlyCollection<string> emails,
        Func<IngestedEvent, bool>? carriesTheirPhone, CancellationToken cancellationToken);
}

/// <summary>How many committed events still wait to be applied (all workspaces).</summary>
public interface IEventBacklog
{
    /// <summary>Counts the committed events not yet dispatched.</summary>
    Task<long> CountPendingAsync(CancellationToken cancellationToken);
}

/// <summary>Ingests Segment-shaped messages on behalf of another module (e.g. connectors), with the same validation and durability as the HTTP API.</summary>
public interface IEventIngestion
{
    /// <summary>
    /// Validates every message (each needs its <c>type</c>), then appends them durably in one group commit; a messageId
    /// seen before in the workspace is ignored. Answers null on success, or the validation error (nothing stored).
    /// Throws <see cref="IngestionOverCapacityException"/> when ingestion is over capacity.
    /// </summary>
    Task<string?> IngestAsync(string workspaceId, IReadOnlyList<System.Text.Json.Nodes.JsonObject> messages, CancellationToken cancellationToken);
}

/// <summary>Ingestion is over capacity; retry later.</summary>
public sealed class IngestionOverCapacityException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IngestionOverCapacityException()
        : base("Ingestion is over capacity; retry later.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public IngestionOverCapacityException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public IngestionOverCapacityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
