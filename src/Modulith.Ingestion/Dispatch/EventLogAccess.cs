using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.EventLog;

namespace Modulith.Ingestion.Dispatch;

/// <summary>The event log as the other modules see it: reads, and erasures that also reach events dispatch has not applied yet.</summary>
internal sealed class EventLogAccess(EventLogStore store, IGrainFactory grains) : IEventLog
{
    public Task<(IReadOnlyList<IngestedEvent> Events, string? NextCursor)> ReadTimelineAsync(
        string workspaceId, IReadOnlyCollection<string> customerIds, string? cursor, int limit, CancellationToken cancellationToken) =>
        store.ReadTimelineAsync(workspaceId, customerIds, cursor, limit, cancellationToken);

    public Task<IReadOnlyList<IngestedEvent>> ReadCustomerEventsAsync(string workspaceId, string customerId, long afterSequence, CancellationToken cancellationToken) =>
        store.ReadCustomerEventsAsync(workspaceId, customerId, afterSequence, cancellationToken);

    public Task<IReadOnlyList<IngestedEvent>> ReadEventsAsync(string workspaceId, IReadOnlyCollection<long> sequences, CancellationToken cancellationToken) =>
        store.ReadEventsAsync(workspaceId, sequences, cancellationToken);

    public IAsyncEnumerable<(string CustomerId, string? Name, DateTimeOffset Timestamp, string Payload)> StreamByNameAsync(
        string workspaceId, string type, string? name, DateTimeOffset since, CancellationToken cancellationToken) =>
        store.StreamByNameAsync(workspaceId, type, name, since, cancellationToken);

    public Task<int> EraseCustomerEventsAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken) =>
        store.EraseCustomerEventsAsync(workspaceId, customerIds, cancellationToken);

    public async Task<int> EraseUnattributedEventsAsync(
        string workspaceId, IReadOnlyCollection<string> userIds, IReadOnlyCollection<string> anonymousIds, IReadOnlyCollection<string> emails,
        Func<IngestedEvent, bool>? carriesTheirPhone, CancellationToken cancellationToken)
    {
        var (erased, pendingPartitions) = await store.EraseUnattributedEventsAsync(workspaceId, userIds, anonymousIds, emails, carriesTheirPhone, cancellationToken);

        // A drain that read one of these events before the erasure applies it as it was read; wait for it.
        await Task.WhenAll(pendingPartitions.Select(p => grains.GetGrain<IEventPartitionGrain>(p).AwaitDrainUnderWayAsync()));
        return erased;
    }
}
