using Modulith.Customers.Profiles;

namespace Modulith.Customers.Identity;

/// <summary>
/// Finds or creates the customer an event's identifiers belong to, and merges profiles that the event shows to be one
/// person. Two profiles with different userIds are never merged: the conflict is recorded on both.
/// </summary>
internal sealed class IdentityResolver(IGrainFactory grains, TimeProvider clock)
{
    public string NewCustomerId() => "cus_" + Guid.CreateVersion7(clock.GetUtcNow()).ToString("N");

    /// <summary>Answers the customer id and whether a merge happened (which invalidates earlier resolutions).</summary>
    public async Task<(string CustomerId, bool Merged)> ResolveAsync(string workspaceId, IReadOnlyList<IdentityKey> ids)
    {
        var owners = await Task.WhenAll(ids.Select(id => Index(workspaceId, id).GetOwnerAsync()));
        var userIdIndex = ids.ToList().FindIndex(id => id.Kind == IdentityKey.UserId);
        string? target = null;
        if (userIdIndex >= 0 && owners[userIdIndex] is null)
        {
            // An unknown userId joins the profile of the event's other identifiers only if that profile has no other userId.
            var other = owners.FirstOrDefault(o => o is not null);
            if (other is not null && (await UserIdsOf(workspaceId, other)).Any(u => u != ids[userIdIndex].Value))
            {
                target = await Index(workspaceId, ids[userIdIndex]).ClaimAsync(NewCustomerId());
                owners[userIdIndex] = target;
            }
        }

        target ??= owners.FirstOrDefault(o => o is not null) ?? await Index(workspaceId, ids[0]).ClaimAsync(NewCustomerId());
        var targetUserIds = new HashSet<string>(await UserIdsOf(workspaceId, target), StringComparer.Ordinal);
        if (userIdIndex >= 0 && (owners[userIdIndex] is null || owners[userIdIndex] == target))
        {
            targetUserIds.Add(ids[userIdIndex].Value);
        }

        var merged = false;
        for (var i = 0; i < ids.Count; i++)
        {
            var owner = owners[i] ?? await Index(workspaceId, ids[i]).ClaimAsync(target);
            if (owner == target)
            {
                continue;
            }

            merged |= await TryMergeAsync(workspaceId, target, targetUserIds, owner, ids[i]);
        }

        return (target, merged);
    }

    private async Task<bool> TryMergeAsync(string workspaceId, string target, HashSet<string> targetUserIds, string other, IdentityKey via)
    {
        var otherState = await Customer(workspaceId, other).GetStateAsync();
        if (otherState?.ForwardedTo is { } forwarded)
        {
            if (forwarded == target)
            {
                return false;
            }

            other = forwarded;
            otherState = await Customer(workspaceId, other).GetStateAsync();
        }

        var otherUserIds = otherState?.Identities.Where(i => i.Kind == IdentityKey.UserId).Select(i => i.Value).ToList() ?? [];
        if (targetUserIds.Count > 0 && otherUserIds.Count > 0 && !otherUserIds.Any(targetUserIds.Contains))
        {
            var now = clock.GetUtcNow();
            const string reason = "The profiles have different userIds; they are never merged automatically.";
            await Customer(workspaceId, target).RecordConflictAsync(new IdentityConflict { At = now, Identity = via.ToString(), OtherCustomerId = other, Reason = reason }, via.ToString());
            await Customer(workspaceId, other).RecordConflictAsync(new IdentityConflict { At = now, Identity = via.ToString(), OtherCustomerId = target, Reason = reason }, null);
            return false;
        }

        var handOff = await Customer(workspaceId, other).HandOffAsync(target);
        if (handOff is null)
        {
            return false;
        }

        await Customer(workspaceId, target).AbsorbAsync(handOff, $"linked by {via}");
        foreach (var identity in handOff.Identities)
        {
            await Index(workspaceId, new IdentityKey(identity.Kind, identity.Value)).RepointAsync(other, target);
        }

        await Index(workspaceId, via).RepointAsync(other, target);
        foreach (var userId in otherUserIds)
        {
            targetUserIds.Add(userId);
        }

        return true;
    }

    private async Task<IReadOnlyList<string>> UserIdsOf(string workspaceId, string customerId)
    {
        var state = await Customer(workspaceId, customerId).GetStateAsync();
        return state?.Identities.Where(i => i.Kind == IdentityKey.UserId).Select(i => i.Value).ToList() ?? [];
    }

    private IIdentityGrain Index(string workspaceId, IdentityKey key) => grains.GetGrain<IIdentityGrain>(key.GrainKey(workspaceId));

    private ICustomerGrain Customer(string workspaceId, string customerId) => grains.GetGrain<ICustomerGrain>($"{workspaceId}/{customerId}");
}
