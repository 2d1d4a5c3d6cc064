using Microsoft.Extensions.Options;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Grains;

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

    [Fact]
    public async Task A_merge_through_a_stale_target_never_points_a_profile_back_at_its_survivor()
    {
        var ws = Ws();
        var a = await VisitorAsync(ws, "a");
        var b = await VisitorAsync(ws, "b");
        var merges = Grains.GetGrainByKey<IProfileMergeGrain>(ws);
        Assert.Equal(new MergeOutcome(a, true), await merges.MergeAsync(a, b, "anonymousId:b", null));

        // A resolution that read its owners before that merge still names b as its target.
        Assert.Equal(new MergeOutcome(a, false), await merges.MergeAsync(b, a, "anonymousId:a", null));
        await AssertJoinedAsync(ws, a, b);
    }

    [Fact]
    public async Task Opposite_merges_of_the_same_profiles_at_once_end_in_one_profile_without_waiting()
    {
        var ws = Ws();
        var pairs = new List<(string A, string B)>();
        for (var i = 0; i < 10; i++)
        {
            pairs.Add((await VisitorAsync(ws, $"a{i}"), await VisitorAsync(ws, $"b{i}")));
        }

        var merges = Grains.GetGrainByKey<IProfileMergeGrain>(ws);
        var outcomes = await Task.WhenAll(pairs.SelectMany(p => new[]
        {
            Task.Run(() => merges.MergeAsync(p.A, p.B, "anonymousId:x", null)),
            Task.Run(() => merges.MergeAsync(p.B, p.A, "anonymousId:y", null)),
        })).WaitAsync(TimeSpan.FromSeconds(20));

        for (var i = 0; i < pairs.Count; i++)
        {
            var survivor = outcomes[2 * i].Survivor;
            Assert.Equal(survivor, outcomes[(2 * i) + 1].Survivor);
            var merged = survivor == pairs[i].A ? pairs[i].B : pairs[i].A;
            await AssertJoinedAsync(ws, survivor, merged);
        }
    }

    [Fact]
    public async Task Two_profiles_handed_to_each_other_are_joined_by_the_next_absorb_instead_of_waiting_on_each_other()
    {
        var ws = Ws();
        var a = await VisitorAsync(ws, "a");
        var b = await VisitorAsync(ws, "b");

        // What two resolutions racing each other could leave in storage before merges took turns.
        var fromA = await Customer(ws, a).HandOffAsync(b);
        var fromB = await Customer(ws, b).HandOffAsync(a);
        Assert.NotNull(fromA);
        Assert.NotNull(fromB);

        Assert.Equal(a, await Customer(ws, a).AbsorbAsync(fromB, "test").WaitAsync(TimeSpan.FromSeconds(10)));
        await AssertJoinedAsync(ws, a, b);
    }

    [Fact]
    public async Task A_reference_by_key_reaches_the_same_grain_as_Orleans_own()
    {
        var ws = Ws();
        var key = $"{ws}/cus_by_key";
        var ours = Grains.GetGrainByKey<ICustomerGrain>(key);
        var theirs = Grains.GetGrain<ICustomerGrain>(key);
        Assert.Equal(theirs.GetGrainId(), ours.GetGrainId());
        Assert.Equal(((GrainReference)theirs).InterfaceType, ((GrainReference)ours).InterfaceType);
        Assert.Equal(Grains.GetGrain<IIdentityGrain>(key).GetGrainId(), Grains.GetGrainByKey<IIdentityGrain>(key).GetGrainId());
        Assert.NotEqual(ours.GetGrainId(), Grains.GetGrainByKey<ICustomerGrain>(key + "x").GetGrainId());

        await ours.ApplyAsync([Event(ws, "by-key")]);
        var state = await theirs.GetStateAsync();
        Assert.Equal(1, state?.Counters.ProductViews);
    }

    [Fact]
    public async Task A_new_userId_whose_phone_another_user_holds_joins_the_visitors_own_profile_without_a_merge()
    {
        var ws = Ws();
        var phone = new IdentityKey(IdentityKey.Phone, "+48600000001");
        var (family, _) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.UserId, "parent"), phone]);
        await Customer(ws, family).ApplyAsync([new(Random.Shared.NextInt64(1, long.MaxValue), ws, Guid.NewGuid().ToString("N"), "identify", null, "parent", null, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "{}")]);
        var visitor = await VisitorAsync(ws, "child-device");

        var (customer, merged) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.UserId, "child"), phone, new IdentityKey(IdentityKey.AnonymousId, "child-device")]);

        Assert.Equal(visitor, customer);
        Assert.False(merged);
        Assert.Equal(visitor, await Grains.GetGrain<IIdentityGrain>(new IdentityKey(IdentityKey.UserId, "child").GrainKey(ws)).GetOwnerAsync());
        Assert.Equal(family, await Grains.GetGrain<IIdentityGrain>(phone.GrainKey(ws)).GetOwnerAsync());
        var state = await Customer(ws, visitor).GetStateAsync();
        Assert.NotNull(state);
        Assert.Empty(state.Merges);
        Assert.Equal(family, Assert.Single(state.Conflicts).OtherCustomerId);
        Assert.Equal(visitor, Assert.Single((await Customer(ws, family).GetStateAsync())!.Conflicts).OtherCustomerId);
    }

    [Fact]
    public async Task An_event_that_needs_no_merge_is_applied_while_a_merge_in_its_drain_still_waits()
    {
        var ws = Ws();
        var shopper = await VisitorAsync(ws, "shopper");
        var known = await VisitorAsync(ws, "old-device");
        Assert.Equal((known, false), await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.UserId, "u"), new IdentityKey(IdentityKey.AnonymousId, "old-device")]));
        var newDevice = await VisitorAsync(ws, "new-device");
        var consumer = new CustomerEventConsumer(Grains, Resolver, fixture.SiloService<CustomerDirectoryStore>(), Options.Create(new CustomersOptions()));
        IngestedEvent signIn = new(Random.Shared.NextInt64(1, long.MaxValue), ws, Guid.NewGuid().ToString("N"), "identify", null, "u", "new-device", null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "{}");

        Task<IReadOnlyList<string>> consuming;
        using (HeldMerges.Hold(ws))
        {
            consuming = consumer.ConsumeAsync(ws, [signIn, Event(ws, "shopper")], CancellationToken.None);
            var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
            while ((await Customer(ws, shopper).GetStateAsync())?.Counters.ProductViews != 2)
            {
                Assert.True(DateTimeOffset.UtcNow < deadline, "The shopper's event waited for the merge of another person's sign-in.");
                await Task.Delay(20);
            }

            Assert.False(consuming.IsCompleted);
        }

        Assert.Equal([known, shopper], await consuming.WaitAsync(TimeSpan.FromSeconds(10)));
        await AssertJoinedAsync(ws, known, newDevice);
    }

    // A profile of its own for an anonymous visitor, with one product view.
    private async Task<string> VisitorAsync(string ws, string anonymousId)
    {
        var (customer, _) = await Resolver.ResolveAsync(ws, [new IdentityKey(IdentityKey.AnonymousId, anonymousId)]);
        await Customer(ws, customer).ApplyAsync([Event(ws, anonymousId)]);
        return customer;
    }

    // Two one-view visitors ended in one profile: the survivor forwards nowhere, the other forwards to it, and it holds both views.
    private async Task AssertJoinedAsync(string ws, string survivor, string merged)
    {
        Assert.Null((await Customer(ws, survivor).GetMergeInfoAsync()).ForwardedTo);
        Assert.Equal(survivor, (await Customer(ws, merged).GetMergeInfoAsync()).ForwardedTo);
        Assert.Equal(2, (await Customer(ws, survivor).GetStateAsync())?.Counters.ProductViews);
    }

    private ICustomerGrain Customer(string ws, string id) => Grains.GetGrain<ICustomerGrain>($"{ws}/{id}");

    private static IngestedEvent Event(string ws, string anonymousId) =>
        new(Random.Shared.NextInt64(1, long.MaxValue), ws, Guid.NewGuid().ToString("N"), "track", "Product Viewed", null, anonymousId, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "{}");
}
