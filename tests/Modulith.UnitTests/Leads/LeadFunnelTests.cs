using Modulith.Leads.Reports;

namespace Modulith.UnitTests.Leads;

public sealed class LeadFunnelTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddDays(30);

    private static LeadFacts Lead(string id, int createdDay, int? mqlDay = null, int? sqlDay = null, int? customerDay = null,
        int? slaStartDay = null, double? contactAfterHours = null, double dueAfterHours = 1, bool breached = false)
    {
        DateTimeOffset? At(int? day) => day is { } d ? From.AddDays(d) : null;
        var slaStart = At(slaStartDay);
        return new LeadFacts(id, "SQL", "rep", "email", "newsletter", "nov", From.AddDays(createdDay), At(mqlDay), At(sqlDay), null, null, null, At(customerDay),
            slaStart, slaStart?.AddHours(dueAfterHours), contactAfterHours is { } h ? slaStart!.Value.AddHours(h) : null, breached);
    }

    [Fact]
    public void The_funnel_counts_each_step_in_the_period_it_happened_and_the_sla_over_every_rep()
    {
        var leads = new[]
        {
            Lead("a", 1, mqlDay: 2, sqlDay: 3, customerDay: 10, slaStartDay: 3, contactAfterHours: 0.5),
            Lead("b", 1, mqlDay: 2, sqlDay: 4, slaStartDay: 4, contactAfterHours: 2, breached: true),
            Lead("c", 2, mqlDay: 5),
            Lead("d", -5, mqlDay: -4, sqlDay: 1, customerDay: 3, slaStartDay: 1, contactAfterHours: 0.25),
            Lead("e", 3),
        };
        var funnel = LeadReportMath.Funnel(leads, From, To);
        Assert.Equal(4, funnel.Leads);
        Assert.Equal(3, funnel.Mqls);
        Assert.Equal(3, funnel.Sqls);
        Assert.Equal(2, funnel.Customers);
        Assert.Equal(0.6667, funnel.MqlToSql);
        Assert.Equal(0.6667, funnel.SqlToCustomer);
        Assert.Equal(3, funnel.SlaClocks);
        Assert.Equal(2, funnel.SlaMet);
        Assert.Equal(1, funnel.SlaBreached);
        Assert.Equal(0.6667, funnel.SlaAttainment);
        Assert.Equal(1800, funnel.MedianSecondsToContact);
    }
}
