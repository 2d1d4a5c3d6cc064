using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Modulith.Leads.Routing;

namespace Modulith.UnitTests.Leads;

public sealed class UnassignedLeadLogTests
{
    private const string NoReps = "No rep can take the lead (no sales reps match).";

    [Fact]
    public void The_first_lead_no_rep_can_take_is_logged_at_once()
    {
        var (log, logged, _) = Create();

        log.Unassigned("ws_a", "cus_1", NoReps);

        var line = Assert.Single(logged.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("cus_1", line.Message, StringComparison.Ordinal);
        Assert.Contains(NoReps, line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Further_unassigned_leads_within_a_minute_are_counted_and_reported_with_the_next_one_after_it()
    {
        var (log, logged, clock) = Create();

        log.Unassigned("ws_a", "cus_1", NoReps);
        for (var i = 2; i <= 500; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            log.Unassigned("ws_a", $"cus_{i}", NoReps);
        }

        Assert.Single(logged.GetSnapshot());
        clock.Advance(TimeSpan.FromSeconds(11));
        log.Unassigned("ws_a", "cus_501", NoReps);

        Assert.Equal(2, logged.Count);
        Assert.Contains("cus_501", logged.LatestRecord.Message, StringComparison.Ordinal);
        Assert.Contains("499 more leads of the workspace", logged.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_workspace_gets_its_own_first_warning()
    {
        var (log, logged, _) = Create();

        log.Unassigned("ws_a", "cus_1", NoReps);
        log.Unassigned("ws_b", "cus_2", NoReps);

        Assert.Equal(2, logged.Count);
        Assert.Contains("ws_b", logged.LatestRecord.Message, StringComparison.Ordinal);
    }

    private static (UnassignedLeadLog Log, FakeLogCollector Logged, FakeTimeProvider Clock) Create()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var logger = new FakeLogger<UnassignedLeadLog>();
        return (new UnassignedLeadLog(clock, logger), logger.Collector, clock);
    }
}
