using Modulith.Leads.Contracts;
using Modulith.Leads.Routing;

namespace Modulith.UnitTests.Leads;

public sealed class RotationTests
{
    [Fact]
    public void Round_robin_takes_the_next_rep_after_the_last_one_and_wraps()
    {
        List<Candidate> reps = [new("cyd", 1, 0), new("bob", 1, 0), new("dan", 1, 0)];
        Assert.Equal("bob", Rotation.RoundRobin(reps, null));
        Assert.Equal("cyd", Rotation.RoundRobin(reps, "bob"));
        Assert.Equal("bob", Rotation.RoundRobin(reps, "dan"));
        Assert.Equal("dan", Rotation.RoundRobin(reps, "cyd"));
    }

    [Fact]
    public void Weighted_assignment_gives_each_rep_its_share_spread_evenly()
    {
        List<Candidate> reps = [new("a", 3, 0), new("b", 1, 0)];
        var state = new Dictionary<string, double>();
        var picks = Enumerable.Range(0, 8).Select(_ => Rotation.SmoothWeighted(reps, state)).ToList();
        Assert.Equal(6, picks.Count(p => p == "a"));
        Assert.Equal(["a", "a", "b", "a", "a", "a", "b", "a"], picks);
    }

    [Fact]
    public void Least_loaded_picks_the_rep_with_the_fewest_open_leads_for_its_weight()
    {
        List<Candidate> reps = [new("a", 1, 4), new("b", 2, 6), new("c", 1, 5)];
        Assert.Equal("b", Rotation.LeastLoaded(reps, null));
    }

    [Fact]
    public void Reps_who_are_inactive_away_full_or_off_hours_are_unavailable_with_the_reason()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero); // a Sunday
        Assert.Equal("inactive", RepAvailability.WhyUnavailable(new SalesRep("a", "A", Active: false), now, 0, false));
        Assert.StartsWith("out of office until 2026-11-24", RepAvailability.WhyUnavailable(new SalesRep("a", "A", OutOfOffice: [new(now.AddDays(-1), now.AddDays(2))]), now, 0, false));
        Assert.Equal("at capacity (3/3 open leads)", RepAvailability.WhyUnavailable(new SalesRep("a", "A", Capacity: 3), now, 3, false));
        var weekdays = new Dictionary<string, IReadOnlyList<string>> { ["monday"] = ["09:00-17:00"] };
        Assert.Equal("outside working hours", RepAvailability.WhyUnavailable(new SalesRep("a", "A", TimeZone: "Europe/Warsaw", WorkingHours: weekdays), now, 0, true));
        Assert.Null(RepAvailability.WhyUnavailable(new SalesRep("a", "A", TimeZone: "Europe/Warsaw", WorkingHours: weekdays), now, 0, false));
    }
}
