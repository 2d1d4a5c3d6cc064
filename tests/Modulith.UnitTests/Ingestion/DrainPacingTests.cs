using Microsoft.Extensions.Time.Testing;
using Modulith.Ingestion.Dispatch;

namespace Modulith.UnitTests.Ingestion;

public sealed class DrainPacingTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(20);

    [Fact]
    public void A_partition_that_never_drained_drains_at_once()
    {
        var pacing = new DrainPacing(Window, new FakeTimeProvider());

        Assert.Equal(TimeSpan.Zero, pacing.WaitBeforeNextDrain(ingestionBusy: false));
    }

    [Fact]
    public void An_event_waits_only_for_the_rest_of_the_window_that_began_with_the_last_drain()
    {
        var (pacing, clock) = OneDrainStarted();

        clock.Advance(TimeSpan.FromMilliseconds(8));

        Assert.Equal(TimeSpan.FromMilliseconds(12), pacing.WaitBeforeNextDrain(ingestionBusy: false));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(35)]
    [InlineData(5_000)]
    public void A_partition_whose_last_drain_began_a_window_ago_or_more_drains_at_once(int millisecondsSince)
    {
        var (pacing, clock) = OneDrainStarted();

        clock.Advance(TimeSpan.FromMilliseconds(millisecondsSince));

        Assert.Equal(TimeSpan.Zero, pacing.WaitBeforeNextDrain(ingestionBusy: false));
    }

    [Fact]
    public void While_ingestion_is_busy_a_partition_rests_a_whole_window_after_its_drain_ends()
    {
        var (pacing, clock) = OneDrainStarted();
        clock.Advance(TimeSpan.FromMilliseconds(30));
        pacing.DrainEnded();

        clock.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Equal(TimeSpan.FromMilliseconds(15), pacing.WaitBeforeNextDrain(ingestionBusy: true));
        Assert.Equal(TimeSpan.Zero, pacing.WaitBeforeNextDrain(ingestionBusy: false));
    }

    [Fact]
    public void Without_a_window_drains_never_wait()
    {
        var clock = new FakeTimeProvider();
        var pacing = new DrainPacing(TimeSpan.Zero, clock);
        pacing.DrainStarted();
        pacing.DrainEnded();

        Assert.Equal(TimeSpan.Zero, pacing.WaitBeforeNextDrain(ingestionBusy: false));
        Assert.Equal(TimeSpan.Zero, pacing.WaitBeforeNextDrain(ingestionBusy: true));
    }

    private static (DrainPacing Pacing, FakeTimeProvider Clock) OneDrainStarted()
    {
        var clock = new FakeTimeProvider();
        var pacing = new DrainPacing(Window, clock);
        pacing.DrainStarted();
        return (pacing, clock);
    }
}
