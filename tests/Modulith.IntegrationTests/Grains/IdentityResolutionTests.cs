using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;

namespace Modulith.IntegrationTests.Grains;

public sealed class IdentityResolutionTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    private IdentityResolver Resolver => new(Grains, TimeProvider.System);

    private static string Ws() => "ws-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Concurrent_first_events_of_one_visitor_make_one_profile()
    {
        var ws = Ws();
        IdentityKey[] ids = [new(IdentityKey.AnonymousId, "visitor")];
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => Resolver.ResolveAsync(ws, ids))));
        Assert.Single(results.Select(r => r.CustomerId).Distinct());
    }

    [Fact]
    public async Task Concurrent_identifications_of_one_person_end_in_one_profile_holding_every_identifier()
    {
        var ws = Ws();
        var anonymous = Enumerable.Range(0, 8).Select(i => new IdentityKey(IdentityKey.AnonymousId, "device-" + i)).ToList();
        foreach (var device in anonymous)
        {
            var (customer, _) = await Resolver.ResolveAsync(ws, [device]);
            await Customer(ws, customer).ApplyAsync([Event(ws, device.Value)]);
        }

        var userId = new IdentityKey(IdentityKey.UserId, "user-1");
        await Task.WhenAll(anonymous.Select(device => Task.Run(() => Resolver.ResolveAsync(ws, [userId, device]))));

        var owners = await Task.WhenAll(anonymous.Append(userId).Select(id => Grains.GetGrain<IIdentityGrain>(id.GrainKey(ws)).GetOwnerAsync()));
        var survivor = Assert.Single(owners.Distinct());
        var state = await Customer(ws, survivor!).GetStateAsync();
        Assert.NotNull(state);
        Assert.Equal(8, state.Counters.ProductViews);
        Assert.Equal(7, state.Merges.Count);
    }

    [Fact]
    public async Task An_event_for_a_merged_away_profile_is_forwarded_to_the_survivor()
    {
        var ws = Ws();
        var (merged, _) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.AnonymousId, "old-device")]);
        await Customer(ws, merged).ApplyAsync([Event(ws, "old-device")]);
        var (survivor, didMerge) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.UserId, "u"), new IdentityKey(IdentityKey.AnonymousId, "old-device")]);
        Assert.False(didMerge); // the device's profile simply gains the userId
        Assert.Equal(merged, survivor);

        var (other, _) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.AnonymousId, "new-device")]);
        await Customer(ws, other).ApplyAsync([Event(ws, "new-device")]);
        var (target, merging) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.UserId, "u"), new IdentityKey(IdentityKey.AnonymousId, "new-device")]);
        Assert.True(merging);
        Assert.Equal(survivor, target);
        var outcome = await Customer(ws, other).ApplyAsync([Event(ws, "new-device")]);
        Assert.Equal(survivor, outcome.ForwardedTo);
    }

    private ICustomerGrain Customer(string ws, string id) => Grains.GetGrain<ICustomerGrain>($"{ws}/{id}");

    private static IngestedEvent Event(string ws, string anonymousId) =>
        new(Random.Shared.NextInt64(1, long.MaxValue), ws, Guid.NewGuid().ToString("N"), "track", "Product Viewed", null, anonymousId, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "{}");
}
