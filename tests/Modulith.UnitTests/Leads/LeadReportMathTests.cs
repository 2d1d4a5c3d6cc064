using Modulith.Leads.Reports;

namespace Modulith.UnitTests.Leads;

public sealed class LeadReportMathTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    private static LeadFacts Lead(string id, string campaign, bool mql = true, bool sql = false, bool accepted = false, string? rejected = null, bool customer = false,
        string? owner = null, double? contactAfter = null, bool breached = false) =>
        new(id, "x", owner, "email", "newsletter", campaign, T, mql ? T : null, sql ? T : null, accepted ? T : null, rejected is null ? null : T, rejected,
            customer ? T : null, sql ? T : null, sql ? T.AddHours(1) : null, contactAfter is { } s ? T.AddSeconds(s) : null, breached);

    [Fact]
    public void Quality_counts_each_step_and_the_rates_between_them_per_campaign()
    {
        var rows = LeadReportMath.Quality(
        [
            Lead("a", "bf", sql: true, accepted: true, customer: true),
            Lead("b", "bf", sql: true, rejected: "poor_quality"),
            Lead("c", "bf", sql: true, rejected: "poor_quality"),
            Lead("d", "bf"),
            Lead("e", "summer", mql: false),
        ], T.AddDays(-1), T.AddDays(1));
        var bf = rows.Single(r => r.Campaign == "bf");
        Assert.Equal((4, 4, 3, 1, 2, 1), (bf.Leads, bf.Mqls, bf.Sqls, bf.Accepted, bf.Rejected, bf.Customers));
        Assert.Equal((0.75, 0.3333, 1.0), (bf.MqlToSqlRate!.Value, bf.SqlToAcceptedRate!.Value, bf.AcceptedToCustomerRate!.Value));
        Assert.Equal(2, bf.RejectionReasons["poor_quality"]);
        var summer = rows.Single(r => r.Campaign == "summer");
        Assert.Null(summer.MqlToSqlRate);
        Assert.Empty(LeadReportMath.Quality([Lead("a", "bf")], T.AddDays(1), T.AddDays(2)));
    }

    [Fact]
    public void Sla_attainment_counts_contacts_by_the_deadline_and_speed_uses_median_and_nearest_rank_p90()
    {
        var rows = LeadReportMath.Sla(
        [
            Lead("a", "x", sql: true, owner: "bob", contactAfter: 60),
            Lead("b", "x", sql: true, owner: "bob", contactAfter: 120),
            Lead("c", "x", sql: true, owner: "bob", contactAfter: 7200, breached: true),
            Lead("d", "x", sql: true, owner: "bob"),
        ], l => l.OwnerId!, T.AddDays(-1), T.AddDays(1));
        var bob = Assert.Single(rows);
        Assert.Equal((4, 2, 1, 1), (bob.Clocks, bob.Met, bob.Breached, bob.Open));
        Assert.Equal(0.6667, bob.Attainment);
        Assert.Equal(120, bob.MedianSecondsToContact);
        Assert.Equal(7200, bob.P90SecondsToContact);
    }

    [Fact]
    public void The_commitment_is_prorated_over_partial_months()
    {
        Assert.Equal(1.0, LeadReportMath.MonthsIn(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), 6);
        Assert.Equal(0.5 + (16.0 / 31), LeadReportMath.MonthsIn(new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, 17, 0, 0, 0, TimeSpan.Zero)), 6);
        var report = LeadReportMath.Commitment([Lead("a", "x"), Lead("b", "x", accepted: true)], new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero), 60);
        Assert.Equal((2, 30.0, 0.0667, 1), (report.Mqls, report.Committed!.Value, report.Attainment!.Value, report.AcceptedOfMqls));
    }

    [Fact]
    public void Csv_quotes_what_needs_quoting_and_defuses_formulas()
    {
        var csv = LeadReportMath.Csv(["a", "b", "c"], [["x,y", "=SUM(A1)", 0.5], [null, "say \"hi\"", 3]]);
        Assert.Equal("a,b,c\r\n\"x,y\",'=SUM(A1),0.5\r\n,\"say \"\"hi\"\"\",3\r\n", csv);
    }
}
