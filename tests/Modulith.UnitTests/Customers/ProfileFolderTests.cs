using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;

namespace Modulith.UnitTests.Customers;

public sealed class ProfileFolderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private long _sequence;

    private IngestedEvent Event(string type, string? name, string payload, DateTimeOffset at, string? userId = null, string anonymousId = "anon", string? messageId = null) =>
        new(++_sequence, "ws", messageId ?? "m" + _sequence, type, name, userId, anonymousId, null, at, at, payload);

    [Fact]
    public void Applying_the_same_event_twice_changes_nothing()
    {
        var state = new CustomerState();
        var viewed = Event("track", "Product Viewed", "{}", T0);
        Assert.True(ProfileFolder.Apply(state, viewed, null));
        Assert.False(ProfileFolder.Apply(state, viewed, null));
        Assert.Equal(1, state.Counters.ProductViews);
        Assert.Equal(1, state.Counters.Events);
    }

    [Fact]
    public void Sessions_end_after_30_minutes_without_events_and_time_on_site_is_summed()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("page", null, "{}", T0), null);
        ProfileFolder.Apply(state, Event("page", null, "{}", T0.AddSeconds(90)), null);
        ProfileFolder.Apply(state, Event("page", null, "{}", T0.AddMinutes(40)), null);
        ProfileFolder.Apply(state, Event("page", null, "{}", T0.AddMinutes(41)), null);
        Assert.Equal(2, state.Counters.Sessions);
        Assert.Equal(150, state.Counters.TimeOnSiteSeconds);
    }

    [Fact]
    public void An_order_reported_twice_counts_once()
    {
        var state = new CustomerState();
        const string order = """{"properties":{"order_id":"1001","revenue":120.50,"currency":"pln"}}""";
        ProfileFolder.Apply(state, Event("track", "Order Completed", order, T0), null);
        ProfileFolder.Apply(state, Event("track", "Order Completed", order, T0.AddMinutes(1)), null);
        ProfileFolder.Apply(state, Event("track", "Order Completed", """{"properties":{"order_id":"1002","products":[{"price":10,"quantity":3}]}}""", T0.AddDays(1)), null);
        Assert.Equal(2, state.Orders.Count);
        Assert.Equal(150.50m, state.Orders.Revenue);
        Assert.Equal("PLN", state.Orders.Currency);
        Assert.Equal(T0, state.Orders.FirstOrderAt);
        Assert.Equal(T0.AddDays(1), state.Orders.LastOrderAt);
    }

    [Fact]
    public void Identify_links_normalised_email_and_phone_and_sets_traits()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("identify", null, """{"traits":{"email":"Jane@Example.com","phone":"+48 601 234 567","firstName":"Jane"}}""", T0, userId: "u1"), null);
        Assert.Contains(state.Identities, i => i is { Kind: IdentityKey.Email, Value: "jane@example.com" });
        Assert.Contains(state.Identities, i => i is { Kind: IdentityKey.Phone, Value: "+48601234567" });
        Assert.Contains(state.Identities, i => i is { Kind: IdentityKey.UserId, Value: "u1" });
        Assert.Equal("\"Jane\"", state.Traits["firstName"]);
    }

    [Theory]
    [InlineData("""{"traits":{"email":"Jane@Example.com","phone":"+48 601 234 567"}}""")]
    [InlineData("""{"context":{"traits":{"email":"ctx@example.com","phone":48601234567}}}""")]
    [InlineData("""{"traits":{"email":""},"context":{"traits":{"email":"second@example.com"}}}""")]
    [InlineData("""{"traits":{"phone":true,"email":["a@example.com"]},"context":"not an object"}""")]
    [InlineData("""{"tr\u0061its":{"em\u0061il":"escaped@example.com"}}""")]
    [InlineData("""{"properties":{"note":"has traits in text only"}}""")]
    [InlineData("""{"properties":{"product_id":"p1"}}""")]
    [InlineData("""[]""")]
    public void Identity_resolution_reads_the_identifiers_the_profile_records(string payload)
    {
        var e = Event("identify", null, payload, T0, userId: "u1");
        var state = new CustomerState();
        ProfileFolder.Apply(state, e, "PL");
        var recorded = state.Identities.Select(i => new IdentityKey(i.Kind, i.Value)).ToHashSet();
        Assert.Equal(recorded, ProfileFolder.IdentitiesOf(e, "PL").ToHashSet());
    }

    [Fact]
    public void A_campaign_visit_becomes_a_classified_touchpoint_with_click_id()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("page", null, """{"context":{"page":{"url":"https://shop.example/p?utm_source=google&utm_medium=cpc&utm_campaign=bf&gclid=abc","referrer":"https://www.google.com/"}}}""", T0), null);
        var touch = Assert.Single(state.Touchpoints);
        Assert.Equal("paid_search", touch.Channel);
        Assert.Equal("bf", touch.Campaign);
        Assert.Equal("gclid:abc", touch.ClickId);
    }

    [Fact]
    public void A_new_session_without_a_source_is_a_direct_touchpoint_and_inner_navigation_is_not_a_referral()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("page", null, """{"context":{"page":{"url":"https://shop.example/","referrer":""}}}""", T0), null);
        ProfileFolder.Apply(state, Event("page", null, """{"context":{"page":{"url":"https://shop.example/b","referrer":"https://shop.example/"}}}""", T0.AddMinutes(1)), null);
        var touch = Assert.Single(state.Touchpoints);
        Assert.Equal("direct", touch.Channel);
    }

    [Fact]
    public void A_page_call_with_url_and_referrer_in_its_properties_is_a_touchpoint()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("page", "Home", """{"properties":{"url":"https://shop.example/?utm_source=fb&utm_medium=paid_social","referrer":"https://l.facebook.com/"}}""", T0), null);
        Assert.Equal("paid_social", Assert.Single(state.Touchpoints).Channel);
    }

    [Fact]
    public void A_source_seen_later_in_the_session_replaces_the_implicit_direct_touch()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("track", "Product Viewed", "{}", T0), null);
        ProfileFolder.Apply(state, Event("page", null, """{"properties":{"url":"https://shop.example/?utm_source=google&utm_medium=cpc"}}""", T0.AddSeconds(5)), null);
        Assert.Equal("paid_search", Assert.Single(state.Touchpoints).Channel);
    }

    [Fact]
    public void Consents_are_taken_as_reported_and_the_latest_wins()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("identify", null, """{"context":{"consent":{"categoryPreferences":{"marketing_email":true}}}}""", T0), null);
        ProfileFolder.Apply(state, Event("identify", null, """{"context":{"consent":{"categoryPreferences":{"marketing_email":false}}}}""", T0.AddHours(1)), null);
        Assert.False(state.Consents["marketing_email"].Granted);
    }

    [Fact]
    public void Absorbing_a_profile_adds_its_counters_and_identities()
    {
        var target = new CustomerState();
        var source = new CustomerState();
        ProfileFolder.Apply(target, Event("track", "Product Viewed", "{}", T0, userId: "u1"), null);
        ProfileFolder.Apply(source, Event("track", "Product Viewed", "{}", T0.AddDays(-2), anonymousId: "other"), null);
        ProfileFolder.Absorb(target, source);
        Assert.Equal(2, target.Counters.ProductViews);
        Assert.Equal(2, target.Counters.Sessions);
        Assert.Equal(T0.AddDays(-2), target.FirstSeen);
        Assert.Contains(target.Identities, i => i.Value == "other");
    }

    [Fact]
    public void After_a_merge_one_visit_seen_by_both_profiles_keeps_its_source_not_the_implicit_direct_touch()
    {
        var ordered = new CustomerState();
        var visitor = new CustomerState();
        ProfileFolder.Apply(ordered, Event("track", "Order Completed", """{"properties":{"order_id":"1"}}""", T0, userId: "u1", anonymousId: "x"), null);
        ProfileFolder.Apply(visitor, Event("page", null, """{"properties":{"url":"https://shop.example/?utm_source=google&utm_medium=cpc"}}""", T0.AddSeconds(1), anonymousId: "a"), null);
        ProfileFolder.Absorb(ordered, visitor);
        Assert.Equal("paid_search", Assert.Single(ordered.Touchpoints).Channel);
        Assert.Contains(visitor.Id, ordered.AbsorbedCustomerIds);
    }

    [Fact]
    public void A_source_arriving_after_a_later_event_of_the_same_visit_still_replaces_the_direct_touch()
    {
        var state = new CustomerState();
        ProfileFolder.Apply(state, Event("track", "Order Completed", """{"properties":{"order_id":"1"}}""", T0, userId: "u1"), null);
        ProfileFolder.Apply(state, Event("identify", null, "{}", T0.AddMilliseconds(33), userId: "u1"), null);
        ProfileFolder.Apply(state, Event("page", "Home", """{"properties":{"url":"https://shop.example/?utm_source=google&utm_medium=cpc"}}""", T0.AddMilliseconds(32)), null);
        Assert.Equal("paid_search", Assert.Single(state.Touchpoints).Channel);
    }

    [Fact]
    public void Absorbing_into_an_empty_profile_keeps_the_open_session_so_a_late_earlier_event_adds_no_direct_touch()
    {
        var target = new CustomerState();
        var visitor = new CustomerState();
        ProfileFolder.Apply(visitor, Event("page", null, """{"properties":{"url":"https://shop.example/?utm_source=google&utm_medium=cpc"}}""", T0.AddMilliseconds(32)), null);
        ProfileFolder.Absorb(target, visitor);
        ProfileFolder.Apply(target, Event("track", "Order Completed", """{"properties":{"order_id":"1"}}""", T0, userId: "u1"), null);
        Assert.Equal("paid_search", Assert.Single(target.Touchpoints).Channel);
        Assert.Equal(1, target.Counters.Sessions);
    }

    [Fact]
    public void Overlapping_sessions_of_merged_profiles_count_as_one_visit()
    {
        var a = new CustomerState();
        var b = new CustomerState();
        ProfileFolder.Apply(a, Event("page", null, "{}", T0), null);
        ProfileFolder.Apply(a, Event("page", null, "{}", T0.AddMinutes(2)), null);
        ProfileFolder.Apply(b, Event("page", null, "{}", T0.AddMinutes(1), anonymousId: "b"), null);
        ProfileFolder.Apply(b, Event("page", null, "{}", T0.AddMinutes(5), anonymousId: "b"), null);
        ProfileFolder.Absorb(a, b);
        Assert.Equal(1, a.Counters.Sessions);
        Assert.Equal(300, a.Counters.TimeOnSiteSeconds);
    }

    [Fact]
    public void A_disputed_identifier_is_never_linked()
    {
        var state = new CustomerState();
        state.DisputedIdentities.Add("email:jane@example.com");
        ProfileFolder.Apply(state, Event("identify", null, """{"traits":{"email":"jane@example.com"}}""", T0, userId: "u2"), null);
        Assert.DoesNotContain(state.Identities, i => i.Kind == IdentityKey.Email);
    }

    [Fact]
    public void An_applied_event_is_remembered_by_its_log_sequence_not_by_its_message_id()
    {
        var state = new CustomerState();
        var viewed = Event("track", "Product Viewed", "{}", T0);
        ProfileFolder.Apply(state, viewed, null);
        Assert.Equal([viewed.Sequence], state.RecentSequences);
        Assert.Empty(state.RecentMessageIds);
    }

    [Fact]
    public void A_profile_stored_with_message_ids_still_skips_the_events_they_name()
    {
        var state = new CustomerState { RecentMessageIds = ["stored-1"] };
        Assert.False(ProfileFolder.Apply(state, Event("track", "Product Viewed", "{}", T0, messageId: "stored-1"), null));
        Assert.Equal(0, state.Counters.Events);
        Assert.True(ProfileFolder.Apply(state, Event("track", "Product Viewed", "{}", T0, messageId: "new-1"), null));
        Assert.Equal(["stored-1"], state.RecentMessageIds);
    }

    [Fact]
    public void At_least_the_latest_events_are_remembered_and_stored_message_ids_go_once_they_are_covered()
    {
        var state = new CustomerState { RecentMessageIds = ["stored-1"] };
        var applied = Enumerable.Range(0, CustomerState.RememberedEvents + (CustomerState.RememberedEvents / 10) + 1)
            .Select(i => Event("page", null, "{}", T0.AddSeconds(i)))
            .ToList();
        foreach (var e in applied)
        {
            ProfileFolder.Apply(state, e, null);
        }

        Assert.Empty(state.RecentMessageIds);
        Assert.Equal(applied.TakeLast(CustomerState.RememberedEvents).Select(e => e.Sequence), state.RecentSequences);
        Assert.True(state.RecentSequences.Capacity <= applied.Count, $"capacity {state.RecentSequences.Capacity}");
        Assert.Equal(CustomerState.RecentEventCount, state.RecentEvents.Count);
        Assert.True(state.RecentEvents.Capacity <= CustomerState.RecentEventCount + 1, $"capacity {state.RecentEvents.Capacity}");
        Assert.False(ProfileFolder.Apply(state, applied[^CustomerState.RememberedEvents], null));
        Assert.True(ProfileFolder.Apply(state, applied[0], null));
    }

    [Fact]
    public void Absorbing_a_profile_remembers_the_events_of_both_in_log_order()
    {
        var target = new CustomerState { Id = "c-target" };
        var source = new CustomerState { Id = "c-source" };
        var first = Event("page", null, "{}", T0);
        var second = Event("page", null, "{}", T0.AddSeconds(1), anonymousId: "other");
        var third = Event("page", null, "{}", T0.AddSeconds(2));
        ProfileFolder.Apply(target, first, null);
        ProfileFolder.Apply(source, second, null);
        ProfileFolder.Apply(target, third, null);
        ProfileFolder.Absorb(target, source);
        Assert.Equal([first.Sequence, second.Sequence, third.Sequence], target.RecentSequences);
        Assert.False(ProfileFolder.Apply(target, second, null));
    }
}
