using Modulith.Customers.Profiles;
using Modulith.SharedKernel.Grains;

namespace Modulith.Customers.Identity;

/// <summary>
/// Merges the profiles of one workspace one at a time; key: the workspace id. Two resolutions that each found the other's
/// profile used to hand each profile over to the other at once: each then forwarded to the other, their absorbs called
/// each other and waited until Orleans' 30-second timeout, and every later event of the person failed to apply, stalling
/// its dispatch partition. Merges are rare next to events, so taking turns costs little.
/// </summary>
internal interface IProfileMergeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Merges <paramref name="otherId"/>'s profile into <paramref name="targetId"/>'s, each followed to the profile it
    /// now forwards to, unless both hold different userIds (then the conflict is recorded on both). Answers the profile
    /// that holds the person's data afterwards and whether a merge happened.
    /// </summary>
    /// <param name="targetId">The profile the event resolved to.</param>
    /// <param name="otherId">A profile that owns another of the event's identifiers.</param>
    /// <param name="via">The identifier that links them (<c>kind:value</c>).</param>
    /// <param name="incomingUserId">The event's userId, when it leads the event's identifiers; it counts as the target's.</param>
    Task<MergeOutcome> MergeAsync(string targetId, string otherId, string via, string? incomingUserId);
}

[GenerateSerializer, Immutable, Alias("modulith.customers.MergeOutcome")]
internal sealed record MergeOutcome([property: Id(0)] string Survivor, [property: Id(1)] bool Merged);

internal sealed class ProfileMergeGrain(TimeProvider clock) : Grain, IProfileMergeGrain
{
    private const int MaxHops = 16;

    private string Workspace => this.GetPrimaryKeyString();

    public async Task<MergeOutcome> MergeAsync(string targetId, string otherId, string via, string? incomingUserId)
    {
        // The resolution that called may have read its owners before an earlier merge: both ends are followed to the
        // profiles they forward to now, so a merge never points a profile back at one that was merged into it.
        var (target, targetInfo) = await FollowAsync(targetId);
        var (other, otherInfo) = await FollowAsync(otherId);
        if (target == other)
        {
            return new MergeOutcome(target, false);
        }

        var targetUserIds = new HashSet<string>(targetInfo.UserIds, StringComparer.Ordinal);
        if (incomingUserId is not null)
        {
            targetUserIds.Add(incomingUserId);
        }

        if (targetUserIds.Count > 0 && otherInfo.UserIds.Count > 0 && !otherInfo.UserIds.Any(targetUserIds.Contains))
        {
            var now = clock.GetUtcNow();
            const string reason = "The profiles have different userIds; they are never merged automatically.";
            // Both in one round of writes: this holds the workspace's turn, and every merge of the workspace waits for it.
            await Task.WhenAll(
                Customer(target).RecordConflictAsync(new IdentityConflict { At = now, Identity = via, OtherCustomerId = other, Reason = reason }, via),
                Customer(other).RecordConflictAsync(new IdentityConflict { At = now, Identity = via, OtherCustomerId = target, Reason = reason }, null));
            return new MergeOutcome(target, false);
        }

        // Merges take turns here, so neither end can have been handed over since it was followed.
        var handOff = await Customer(other).HandOffAsync(target) ?? throw new InvalidOperationException($"Profile {other} was merged elsewhere during a merge of workspace {Workspace}.");
        var survivor = await Customer(target).AbsorbAsync(handOff, $"linked by {via}");
        foreach (var identity in handOff.Identities.Select(i => new IdentityKey(i.Kind, i.Value).ToString()).Append(via))
        {
            await Index(identity).RepointAsync(other, survivor);
        }

        return new MergeOutcome(survivor, true);
    }

    private async Task<(string Id, MergeInfo Info)> FollowAsync(string customerId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var hop = 0; hop < MaxHops; hop++)
        {
            var info = await Customer(customerId).GetMergeInfoAsync();
            if (info.ForwardedTo is not { } next || !seen.Add(customerId))
            {
                return (customerId, info);
            }

            customerId = next;
        }

        throw new InvalidOperationException($"Profile {customerId} of workspace {Workspace} forwards more than {MaxHops} times.");
    }

    private ICustomerGrain Customer(string customerId) => GrainFactory.GetGrainByKey<ICustomerGrain>($"{Workspace}/{customerId}");

    // An identifier's index grain is keyed by the workspace and the identifier as IdentityKey writes it (kind:value).
    private IIdentityGrain Index(string identity) => GrainFactory.GetGrainByKey<IIdentityGrain>($"{Workspace}/{identity}");
}
