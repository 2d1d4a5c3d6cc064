namespace Modulith.Customers.Identity;

/// <summary>The index entry of one identifier; key <c>{workspace}/{kind}:{value}</c>.</summary>
internal interface IIdentityGrain : IGrainWithStringKey
{
    /// <summary>Answers the owner; when there is none, the candidate becomes the owner.</summary>
    Task<string> ClaimAsync(string candidateCustomerId);

    /// <summary>The owner, if any.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string?> GetOwnerAsync();

    /// <summary>Moves the identifier from one customer to another, if the first still owns it.</summary>
    Task RepointAsync(string fromCustomerId, string toCustomerId);

    /// <summary>Forgets the owner, if it is one of <paramref name="customerIds"/> (erasure): the identifier is free again.</summary>
    Task ReleaseAsync(IReadOnlyList<string> customerIds);
}

[GenerateSerializer, Alias("modulith.customers.IdentityState")]
internal sealed class IdentityState
{
    [Id(0)] public string? Owner { get; set; }
}

internal sealed class IdentityGrain([PersistentState("identity", "customers")] IPersistentState<IdentityState> state) : Grain, IIdentityGrain
{
    public async Task<string> ClaimAsync(string candidateCustomerId)
    {
        if (state.State.Owner is { } owner)
        {
            return owner;
        }

        state.State.Owner = candidateCustomerId;
        await state.WriteStateAsync();
        return candidateCustomerId;
    }

    public Task<string?> GetOwnerAsync() => Task.FromResult(state.State.Owner);

    public async Task ReleaseAsync(IReadOnlyList<string> customerIds)
    {
        if (state.State.Owner is { } owner && customerIds.Contains(owner))
        {
            state.State.Owner = null;
            await state.WriteStateAsync();
        }
    }

    public async Task RepointAsync(string fromCustomerId, string toCustomerId)
    {
        if (state.State.Owner == fromCustomerId || state.State.Owner is null)
        {
            state.State.Owner = toCustomerId;
            await state.WriteStateAsync();
        }
    }
}
