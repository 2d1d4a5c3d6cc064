using Modulith.Customers.Profiles;

namespace Modulith.Customers.Identity;

/// <summary>
/// Finds or creates the customer an event's identifiers belong to, and merges profiles that the event shows to be one
/// person. Two profiles with different userIds are never merged: the conflict is recorded on both.
/// </summary>
internal sealed class IdentityResolver(IGrainFactory grains, TimeProvider clock)
{
    private const int MaxHops = 16;

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
        if (owners[0] is null && leadsWithUserId && candidate is not null && (await UserIdsOf(workspaceId, candidate)).Any(u => u != ids[0].Value))
        {
            // An unknown userId joins the profile of the event's other identifiers only if that profile has no other userId.
            candidate = null;
        }

        var target = owners[0] ?? await Index(workspaceId, ids[0]).ClaimAsync(candidate ?? NewCustomerId());
        owners[0] = target;
        HashSet<string>? targetUserIds = null;
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

            if (targetUserIds is null)
            {
                targetUserIds = new HashSet<string>(await UserIdsOf(workspaceId, target), StringComparer.Ordinal);
                if (leadsWithUserId)
                {
                    targetUserIds.Add(ids[0].Value);
                }
            }

            var (survivor, didMerge) = await TryMergeAsync(workspaceId, target, targetUserIds, owner, ids[i]);
            target = survivor;
            merged |= didMerge;
        }

        return (target, merged);
    }

    private async Task<(string Survivor, bool Merged)> TryMergeAsync(string workspaceId, string target, HashSet<string> targetUserIds, string other, IdentityKey via)
    {
        for (var hop = 0; hop < MaxHops; hop++)
        {
            var otherInfo = await Customer(workspaceId, other).GetMergeInfoAsync();
            if (otherInfo.ForwardedTo is { } forwarded)
            {
                if (forwarded == target)
                {
                    return (target, false);
                }

                other = forwarded;
                continue;
            }

            var otherUserIds = otherInfo.UserIds;
            if (targetUserIds.Count > 0 && otherUserIds.Count > 0 && !otherUserIds.Any(targetUserIds.Contains))
            {
                var now = clock.GetUtcNow();
                const string reason = "The profiles have different userIds; they are never merged automatically.";
                await Customer(workspaceId, target).RecordConflictAsync(new IdentityConflict { At = now, Identity = via.ToString(), OtherCustomerId = other, Reason = reason }, via.ToString());
                await Customer(workspaceId, other).RecordConflictAsync(new IdentityConflict { At = now, Identity = via.ToString(), OtherCustomerId = target, Reason = reason }, null);
                return (target, false);
            }

            var handOff = await Customer(workspaceId, other).HandOffAsync(target);
            if (handOff is null)
            {
                continue; // merged elsewhere meanwhile: follow it
            }

            var survivor = await Customer(workspaceId, target).AbsorbAsync(handOff, $"linked by {via}");
            foreach (var identity in handOff.Identities)
            {
                await Index(workspaceId, new IdentityKey(identity.Kind, identity.Value)).RepointAsync(other, survivor);
            }

            await Index(workspaceId, via).RepointAsync(other, survivor);
            foreach (var userId in otherUserIds)
            {
                targetUserIds.Add(userId);
            }

            return (survivor, true);
        }

        throw new InvalidOperationException($"Merging into {target} followed more than {MaxHops} forwards from {other}.");
    }

    private async Task<IReadOnlyList<string>> UserIdsOf(string workspaceId, string customerId)
    {
        return (await Customer(workspaceId, customerId).GetMergeInfoAsync()).UserIds;
    }

    private IIdentityGrain Index(string workspaceId, IdentityKey key) => grains.GetGrain<IIdentityGrain>(key.GrainKey(workspaceId));

    private ICustomerGrain Customer(string workspaceId, string customerId) => grains.GetGrain<ICustomerGrain>($"{workspaceId}/{customerId}");
}
