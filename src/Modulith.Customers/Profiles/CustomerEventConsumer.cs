using Microsoft.Extensions.Options;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Ingestion.Contracts;

namespace Modulith.Customers.Profiles;

/// <summary>Resolves each event's identity and applies the events to the customers' grains, one call per customer.</summary>
internal sealed class CustomerEventConsumer(IGrainFactory grains, IdentityResolver resolver, CustomerDirectoryStore directory, IOptions<CustomersOptions> options)
    : IIngestedEventConsumer
{
    private const int MaxForwards = 8;

    public async Task<IReadOnlyList<string>> ConsumeAsync(string workspaceId, IReadOnlyList<IngestedEvent> events, CancellationToken cancellationToken)
    {
        var owners = new string[events.Count];
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var ids = ProfileFolder.IdentitiesOf(events[i], null, options.Value.DefaultPhoneRegion);
            var key = string.Join('\n', ids);
            if (!resolved.TryGetValue(key, out var owner))
            {
                (owner, var merged) = await resolver.ResolveAsync(workspaceId, ids);
                if (merged)
                {
                    resolved.Clear();
                }

                resolved[key] = owner;
            }

            owners[i] = owner;
        }

        var groups = Enumerable.Range(0, events.Count).GroupBy(i => owners[i]).ToList();
        var outcomes = await Task.WhenAll(groups.Select(g => ApplyAsync(workspaceId, g.Key, g.Select(i => events[i]).ToList())));
        var finalOwner = new Dictionary<string, string>(StringComparer.Ordinal);
        var summaries = new Dictionary<string, CustomerListEntry>(StringComparer.Ordinal);
        for (var g = 0; g < groups.Count; g++)
        {
            finalOwner[groups[g].Key] = outcomes[g].CustomerId;
            if (outcomes[g].Summary is { } summary)
            {
                summaries[summary.Id] = summary;
            }

            if (groups[g].Key != outcomes[g].CustomerId)
            {
                summaries.TryAdd(groups[g].Key, new CustomerListEntry(groups[g].Key, null, null, null, null, null, outcomes[g].CustomerId));
            }
        }

        await directory.UpsertAsync(workspaceId, summaries.Values, cancellationToken);
        return owners.Select(o => finalOwner[o]).ToArray();
    }

    private async Task<(string CustomerId, CustomerListEntry? Summary)> ApplyAsync(string workspaceId, string customerId, IReadOnlyList<IngestedEvent> events)
    {
        for (var hop = 0; hop < MaxForwards; hop++)
        {
            var outcome = await grains.GetGrain<ICustomerGrain>($"{workspaceId}/{customerId}").ApplyAsync(events);
            if (outcome.ForwardedTo is null)
            {
                return (customerId, outcome.Summary);
            }

            customerId = outcome.ForwardedTo;
        }

        throw new InvalidOperationException($"Customer {customerId} forwards more than {MaxForwards} times.");
    }
}
