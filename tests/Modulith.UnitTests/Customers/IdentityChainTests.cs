using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;

namespace Modulith.UnitTests.Customers;

public sealed class IdentityChainTests
{
    private static IdentityKey Anon(string v) => new(IdentityKey.AnonymousId, v);

    private static IdentityKey User(string v) => new(IdentityKey.UserId, v);

    [Fact]
    public void Events_that_share_an_identifier_even_through_a_third_event_form_one_chain_in_log_order()
    {
        IReadOnlyList<IdentityKey>[] events =
        [
            [Anon("a")],
            [Anon("b")],
            [User("u"), Anon("b")],
            [Anon("c")],
            [User("u"), Anon("a")],
            [Anon("b")],
        ];

        var chains = CustomerEventConsumer.ChainsOfSharedIdentifiers(events).OrderBy(c => c[0]).ToList();

        Assert.Equal(2, chains.Count);
        Assert.Equal([0, 1, 2, 4, 5], chains[0]);
        Assert.Equal([3], chains[1]);
    }

    [Fact]
    public void Unrelated_events_each_form_their_own_chain()
    {
        IReadOnlyList<IdentityKey>[] events = [[Anon("a")], [Anon("b")], [User("u")]];

        var chains = CustomerEventConsumer.ChainsOfSharedIdentifiers(events);

        Assert.Equal(3, chains.Count);
        Assert.All(chains, c => Assert.Single(c));
    }
}
