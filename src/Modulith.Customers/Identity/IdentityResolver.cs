using Modulith.Customers.Profiles;
using Modulith.SharedKernel.Grains;

namespace Modulith.Customers.Identity;

/// <summary>
/// Finds or creates the customer an event's identifiers belong to, and merges profiles that the event shows to be one
/// person. Two profiles with different userIds are never merged: the conflict is recorded on both.
/// </summary>
internal sealed class IdentityResolver(IGrainFactory grains, TimeProvider clock)
{
    public string NewCustomerId() => "cus_" + Guid.CreateVersion7(clock.GetUtcNow()).ToString("N");

    /// <summary>Answers the customer id and whether a merge happened (which invalidates earlier resolutions).</summary>
    /// <remarks>
    /// The highest-priority identifier (the userId when there is one) decides the survivor through an atomic claim on its
    /// index grain, so concurrent resolutions of one person agree on one profile and merge the others into it.
    /// </remarks>
    public async Task<(string CustomerId, bool Merged)> ResolveAsync(string workspaceId, IReadOnlyList<IdentityKey> ids)
    {
        var owners = await Task.WhenAll(ids.Select(id => Index(workspaceId, id).GetOwnerAsync()));
        var leadsWithUserId = ids[0].Kind == IdentityKey.UserId;
        var candidate = owners.FirstOrDefault(o => o is not null);
        if (owners[0] is null && leadsWithUserId && candidate is not null)
        {
            // An unknown userId joins the first profile of the event's other identifiers that has no other userId: a sign-up
            // whose phone or email another user's profile holds keeps the visitor's own profile, and the others conflict.
            candidate = null;
            foreach (var owner in owners.Skip(1).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                if (!(await UserIdsOf(workspaceId, owner)).Any(u => u != ids[0].Value))
                {
                    candidate = owner;
                    break;
                }
            }
        }

        var target = owners[0] ?? await Index(workspaceId, ids[0]).ClaimAsync(candidate ?? NewCustomerId());
        owners[0] = target;
        var merged = false;
        // Unowned identifiers are claimed side by side; one claimed meanwhile by another profile answers that owner,
        // which is then merged like any other.
        var claims = await Task.WhenAll(Enumerable.Range(1, ids.Count - 1).Select(i => owners[i] is { } known ? Task.FromResult(known) : Index(workspaceId, ids[i]).ClaimAsync(target)));
        for (var i = 1; i < ids.Count; i++)
        {
            var owner = claims[i - 1];
            if (owner == target)
            {
                continue;
            }

            var outcome = await grains.GetGrainByKey<IProfileMergeGrain>(workspaceId).MergeAsync(target, owner, ids[i].ToString(), leadsWithUserId ? ids[0].Value : null);
            target = outcome.Survivor;
            merged |= outcome.Merged;
        }

        return (target, merged);
    }

    private async Task<IReadOnlyList<string>> UserIdsOf(string workspaceId, string customerId)
    {
        return (await Customer(workspaceId, customerId).GetMergeInfoAsync()).UserIds;
    }

    private IIdentityGrain Index(string workspaceId, IdentityKey key) => grains.GetGrainByKey<IIdentityGrain>(key.GrainKey(workspaceId));

    private ICustomerGrain Customer(string workspaceId, string customerId) => grains.GetGrainByKey<ICustomerGrain>($"{workspaceId}/{customerId}");
}
