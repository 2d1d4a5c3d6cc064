namespace Modulith.Ingestion.Contracts;

/// <summary>How far dispatch is behind for one workspace.</summary>
/// <param name="Pending">Events acknowledged but not yet applied to profiles, leads and segments.</param>
/// <param name="Parked">Events set aside because they failed to apply even on their own; they wait for a retry.</param>
public sealed record DispatchStatus(long Pending, long Parked);

/// <summary>
/// An acknowledged event that dispatch set aside because applying it failed on its own, again and again, while the
/// store was healthy. It stays in the event log unchanged, and is applied again when retried.
/// </summary>
/// <param name="Sequence">The event's position in the log; the paging cursor.</param>
/// <param name="MessageId">The sender's messageId.</param>
/// <param name="Type">The Segment type (track, identify, ...).</param>
/// <param name="Name">The event or page name, when it has one.</param>
/// <param name="UserId">The userId it carried.</param>
/// <param name="AnonymousId">The anonymousId it carried.</param>
/// <param name="Timestamp">When it happened, as corrected at ingestion.</param>
/// <param name="ReceivedAt">When ingestion acknowledged it.</param>
/// <param name="ParkedAt">When dispatch set it aside.</param>
/// <param name="Attempts">How many times it was tried on its own before it was set aside.</param>
/// <param name="Error">What the last attempt failed with (exception type and message).</param>
public sealed record ParkedEvent(
    long Sequence,
    string MessageId,
    string Type,
    string? Name,
    string? UserId,
    string? AnonymousId,
    DateTimeOffset Timestamp,
    DateTimeOffset ReceivedAt,
    DateTimeOffset ParkedAt,
    int Attempts,
    string Error);

/// <summary>Body of <c>POST /api/ingestion/parked-events/retry</c>.</summary>
/// <param name="MessageIds">The parked events to apply again; every parked event of the workspace when absent.</param>
public sealed record RetryParkedEventsRequest(IReadOnlyList<string>? MessageIds);

/// <summary>Answer of <c>POST /api/ingestion/parked-events/retry</c>.</summary>
/// <param name="Requeued">How many parked events went back to dispatch.</param>
public sealed record ParkedEventsRequeued(int Requeued);
