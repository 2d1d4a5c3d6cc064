using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Grains;

namespace Modulith.Customers.Profiles;

/// <summary>Resolves each event's identity and applies each chain of events to its customers' grains as soon as the chain is resolved.</summary>
internal sealed class CustomerEventConsumer(IGrainFactory grains, IdentityResolver resolver, CustomerDirectoryStore directory, IOptions<CustomersOptions> options)
    : IIngestedEventConsumer
{
    private const int MaxForwards = 8;
    private const int MaxConcurrentChains = 16;

    public async Task<IReadOnlyList<string>> ConsumeAsync(string workspaceId, IReadOnlyList<IngestedEvent> events, CancellationToken cancellationToken)
    {
        var owners = new string[events.Count];
        var appliedTo = new string[events.Count];
        var identities = events.Select(e => ProfileFolder.IdentitiesOf(e, options.Value.DefaultPhoneRegion)).ToArray();
        var summaries = new ConcurrentDictionary<string, CustomerListEntry>(StringComparer.Ordinal);
        var forwards = new ConcurrentDictionary<string, CustomerListEntry>(StringComparer.Ordinal);
        var applies = new ConcurrentQueue<Task>();
        // Each chain's events go to their customers as soon as the chain is resolved, not after every chain of the drain:
        // a merge or a claim elsewhere in the drain no longer holds up events that need neither (ADR 0017). Resolution is
        // bounded, so that a large drain does not flood the thread pool that also serves ingestion's requests.
        try
        {
            await Parallel.ForEachAsync(ChainsOfSharedIdentifiers(identities), new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentChains, CancellationToken = cancellationToken },
                async (chain, _) =>
                {
                    await ResolveChainAsync(workspaceId, chain, identities, owners);
                    foreach (var group in chain.GroupBy(i => owners[i]))
                    {
                        applies.Enqueue(ApplyGroupAsync(workspaceId, group.Key, [.. group], events, appliedTo, summaries, forwards));
                    }
                });
        }
        catch
        {
            // The drain fails and is read again; the applies already started finish first, so none outlives it unobserved.
            await Task.WhenAll(applies).ContinueWith(static _ => { }, TaskScheduler.Default);
            throw;
        }

        await Task.WhenAll(applies);
        foreach (var (id, forward) in forwards)
        {
            summaries[id] = forward;
        }

        await directory.UpsertAsync(workspaceId, [.. summaries.Values], cancellationToken);
        return appliedTo;
    }

    /// <summary>
    /// Groups the events into chains of events that share an identifier, each in log order. Events of one chain are
    /// resolved one after another, as a link made by one must be seen by the next; unrelated chains resolve concurrently.
    /// </summary>
    internal static IReadOnlyList<List<int>> ChainsOfSharedIdentifiers(IReadOnlyList<IReadOnlyList<IdentityKey>> identities)
    {
        var parent = Enumerable.Range(0, identities.Count).ToArray();
        int Root(int i)
        {
            while (parent[i] != i)
            {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }

            return i;
        }

        var firstWith = new Dictionary<IdentityKey, int>();
        for (var i = 0; i < identities.Count; i++)
        {
            foreach (var id in identities[i])
            {
                if (firstWith.TryGetValue(id, out var other))
                {
                    var (a, b) = (Root(i), Root(other));
                    parent[Math.Max(a, b)] = Math.Min(a, b);
                }
                else
                {
                    firstWith[id] = i;
                }
            }
        }

        var chains = new Dictionary<int, List<int>>();
        for (var i = 0; i < identities.Count; i++)
        {
            var root = Root(i);
            if (!chains.TryGetValue(root, out var chain))
            {
                chains[root] = chain = [];
            }

            chain.Add(i);
        }

        return [.. chains.Values];
    }

    private async Task ResolveChainAsync(string workspaceId, List<int> chain, IReadOnlyList<IReadOnlyList<IdentityKey>> identities, string[] owners)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var i in chain)
        {
            var key = string.Join('\n', identities[i]);
            if (!resolved.TryGetValue(key, out var owner))
            {
                (owner, var merged) = await resolver.ResolveAsync(workspaceId, identities[i]);
                if (merged)
                {
                    resolved.Clear();
                }

                resolved[key] = owner;
            }

            owners[i] = owner;
        }
    }

    private async Task ApplyGroupAsync(string workspaceId, string resolvedId, IReadOnlyList<int> indexes, IReadOnlyList<IngestedEvent> events, string[] appliedTo,
        ConcurrentDictionary<string, CustomerListEntry> summaries, ConcurrentDictionary<string, CustomerListEntry> forwards)
    {
        var (customerId, summary) = await ApplyAsync(workspaceId, resolvedId, [.. indexes.Select(i => events[i])]);
        if (summary is not null)
        {
            summaries[summary.Id] = summary;
        }

        // A profile merged away is listed as forwarding to its survivor, whatever an apply before the merge answered.
        if (customerId != resolvedId)
        {
            forwards[resolvedId] = new CustomerListEntry(resolvedId, null, null, null, null, null, customerId);
        }

        foreach (var i in indexes)
        {
            appliedTo[i] = customerId;
        }
    }

    private async Task<(string CustomerId, CustomerListEntry? Summary)> ApplyAsync(string workspaceId, string customerId, IReadOnlyList<IngestedEvent> events)
    {
        for (var hop = 0; hop < MaxForwards; hop++)
        {
            var outcome = await grains.GetGrainByKey<ICustomerGrain>($"{workspaceId}/{customerId}").ApplyAsync(events);
            if (outcome.ForwardedTo is null)
            {
                return (customerId, outcome.Summary);
            }

            customerId = outcome.ForwardedTo;
        }

        throw new InvalidOperationException($"Customer {customerId} forwards more than {MaxForwards} times.");
    }
}
