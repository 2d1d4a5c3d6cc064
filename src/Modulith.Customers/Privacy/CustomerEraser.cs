using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Modulith.Customers.Contracts;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;

namespace Modulith.Customers.Privacy;

/// <summary>Erases a person across the profile grains, the identity index, the event log and the search projection, then tells the modules that keep data of their own.</summary>
internal sealed partial class CustomerEraser(
    IGrainFactory grains,
    CustomerQueries queries,
    IEventLog eventLog,
    CustomerDirectoryStore directory,
    IEnumerable<ICustomerErasureObserver> observers,
    IOptions<CustomersOptions> options,
    ILogger<CustomerEraser> logger) : ICustomerPrivacy
{
    private readonly ICustomerErasureObserver[] _observers = observers.ToArray();

    public async Task<CustomerErasure?> EraseAsync(string workspaceId, string customerId, CancellationToken cancellationToken = default)
    {
        var state = await queries.ResolveAsync(workspaceId, customerId);
        if (state is null)
        {
            return null;
        }

        // The person's events that dispatch has not applied yet would otherwise start a new profile after this one is
        // gone; they are erased first, and a drain that already read one is waited for, so the profile erasure covers it.
        var known = state.Identities.Concat(state.Merges.SelectMany(m => m.SourceIdentities)).Select(i => $"{i.Kind}:{i.Value}").ToList();
        var events = await EraseUnattributedEventsAsync(workspaceId, known, cancellationToken);

        var profiles = new List<string> { state.Id };
        var identities = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < profiles.Count; i++)
        {
            var erased = await grains.GetGrain<ICustomerGrain>($"{workspaceId}/{profiles[i]}").EraseAsync();
            identities.UnionWith(erased.Identities);
            profiles.AddRange(erased.CustomerIds.Where(id => !profiles.Contains(id)));
        }

        foreach (var identity in identities)
        {
            await grains.GetGrain<IIdentityGrain>($"{workspaceId}/{identity}").ReleaseAsync(profiles);
        }

        events += await eventLog.EraseCustomerEventsAsync(workspaceId, profiles, cancellationToken);
        events += await EraseUnattributedEventsAsync(workspaceId, identities, cancellationToken);
        await directory.DeleteAsync(workspaceId, profiles, cancellationToken);
        await Task.WhenAll(_observers.Select(o => o.OnErasedAsync(workspaceId, profiles, cancellationToken)));
        LogErased(workspaceId, state.Id, profiles.Count, identities.Count, events);
        return new CustomerErasure(state.Id, profiles.Count, identities.Count, events);
    }

    private Task<int> EraseUnattributedEventsAsync(string workspaceId, IReadOnlyCollection<string> identities, CancellationToken cancellationToken)
    {
        // An event that names the person only by a phone, written in any of its forms, is theirs when dispatch would
        // resolve it to that phone.
        var phones = IdsOf(identities, IdentityKey.Phone).ToHashSet(StringComparer.Ordinal);
        var region = options.Value.DefaultPhoneRegion;
        Func<IngestedEvent, bool>? carriesTheirPhone = phones.Count == 0
            ? null
            : e => ProfileFolder.IdentitiesOf(e, region).Any(key => key.Kind == IdentityKey.Phone && phones.Contains(key.Value));
        return eventLog.EraseUnattributedEventsAsync(
            workspaceId, IdsOf(identities, IdentityKey.UserId), IdsOf(identities, IdentityKey.AnonymousId), IdsOf(identities, IdentityKey.Email), carriesTheirPhone, cancellationToken);
    }

    private static List<string> IdsOf(IEnumerable<string> identities, string kind) =>
        identities.Where(i => i.StartsWith(kind + ":", StringComparison.Ordinal)).Select(i => i[(kind.Length + 1)..]).ToList();

    [LoggerMessage(Level = LogLevel.Information, Message = "Erased customer {CustomerId} of workspace {WorkspaceId}: {Profiles} profile(s), {Identities} identifier(s), {Events} event(s)")]
    private partial void LogErased(string workspaceId, string customerId, int profiles, int identities, int events);
}
