using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Modulith.Ingestion.Dispatch;
using Modulith.Ingestion.EventLog;

namespace Modulith.UnitTests.Ingestion;

public sealed class DispatchThrottleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(4, 3)]
    [InlineData(0, 100)]
    public async Task Drains_run_side_by_side_while_ingestion_is_quiet_or_yielding_is_turned_off(int busyAt, int requestsInFlight)
    {
        var (throttle, _, _) = Create(concurrentDrains: 2, busyAt, requestsInFlight);
        var first = new Drain();
        var second = new Drain();

        var running = new[] { throttle.RunAsync(first.RunAsync), throttle.RunAsync(second.RunAsync) };

        await first.Started.WaitAsync(Patience);
        await second.Started.WaitAsync(Patience);
        first.Finish();
        second.Finish();
        await Task.WhenAll(running).WaitAsync(Patience);
    }

    [Fact]
    public async Task While_ingestion_is_busy_one_drain_runs_at_a_time_and_pauses_as_long_as_it_took()
    {
        var (throttle, _, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 4);
        var first = new Drain();
        var second = new Drain();

        var firstRun = throttle.RunAsync(first.RunAsync);
        await first.Started.WaitAsync(Patience);
        var secondRun = throttle.RunAsync(second.RunAsync);
        await Task.Delay(50);
        Assert.False(second.Started.IsCompleted, "a second drain started while ingestion was busy");

        clock.Advance(TimeSpan.FromMilliseconds(300));
        first.Finish();
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromMilliseconds(299));
        await Task.Delay(50);
        Assert.False(second.Started.IsCompleted, "the next drain started before the pause was over");
        Assert.False(firstRun.IsCompleted, "the drain's partition went on before the pause was over");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await firstRun.WaitAsync(Patience);
        await second.Started.WaitAsync(Patience);
        second.Finish();
        await secondRun.WaitAsync(Patience);
    }

    [Fact]
    public void Ingestion_is_busy_once_the_configured_number_of_requests_stays_in_flight_and_quiet_soon_after_they_finish()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 2, requestsInFlight: 1);
        Assert.False(pressure.IsBusy);

        pressure.RequestStarted();
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(pressure.IsBusy);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(pressure.IsBusy);

        pressure.RequestFinished();
        pressure.RequestFinished();
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(pressure.IsBusy);
    }

    [Fact]
    public void A_moments_pile_up_of_requests_does_not_make_ingestion_busy()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 0);

        // Twenty requests that queued behind a 50 ms pause, then finished: a steady stream at 5,000 events/s in batches
        // of 50 looks like this now and then, and dispatch should not give up its pace for it.
        for (var i = 0; i < 20; i++)
        {
            pressure.RequestStarted();
        }

        clock.Advance(TimeSpan.FromMilliseconds(50));
        Assert.False(pressure.IsBusy);
        for (var i = 0; i < 20; i++)
        {
            pressure.RequestFinished();
        }

        Assert.False(pressure.IsBusy);
    }

    [Fact]
    public void Ingestion_is_saturated_while_busy_and_accepting_far_more_events_than_dispatch_applies()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);

        // 60,000 events a second accepted and 2,000 applied, as under the ingestion benchmark's batches.
        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 2_000, seconds: 3);

        Assert.True(pressure.IsBusy);
        Assert.True(pressure.IsSaturated);
    }

    [Fact]
    public void A_steady_load_below_the_saturation_rate_never_saturates_ingestion_even_while_dispatch_applies_nothing()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);

        // The leads benchmark's 5,000 events a second, with dispatch stalled for three seconds.
        Steady(pressure, clock, acceptedPerSecond: 5_000, appliedPerSecond: 0, seconds: 3);

        Assert.True(pressure.IsBusy);
        Assert.False(pressure.IsSaturated);
    }

    [Fact]
    public void Ingestion_is_not_saturated_once_it_is_no_longer_busy_or_once_dispatch_keeps_up()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 0, seconds: 3);
        Assert.True(pressure.IsSaturated);

        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 55_000, seconds: 5);
        Assert.False(pressure.IsSaturated);

        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 0, seconds: 3);
        Assert.True(pressure.IsSaturated);
        for (var i = 0; i < 8; i++)
        {
            pressure.RequestFinished();
        }

        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(pressure.IsBusy);
        Assert.False(pressure.IsSaturated);
    }

    [Fact]
    public void Saturation_can_be_turned_off()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8, saturatedAt: 0);

        Steady(pressure, clock, acceptedPerSecond: 100_000, appliedPerSecond: 0, seconds: 3);

        Assert.True(pressure.IsBusy);
        Assert.False(pressure.IsSaturated);
    }

    [Fact]
    public async Task While_ingestion_is_saturated_a_drain_is_followed_by_the_longest_pause_however_short_it_was()
    {
        var (throttle, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 0, seconds: 3);
        var first = new Drain();
        var second = new Drain();

        var firstRun = throttle.RunAsync(first.RunAsync);
        await first.Started.WaitAsync(Patience);
        var secondRun = throttle.RunAsync(second.RunAsync);
        clock.Advance(TimeSpan.FromMilliseconds(10));
        first.Finish();
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromMilliseconds(1_999));
        await Task.Delay(50);
        Assert.False(second.Started.IsCompleted, "the next drain started before the longest pause was over");
        Assert.False(firstRun.IsCompleted, "the drain's partition went on before the longest pause was over");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await firstRun.WaitAsync(Patience));
        await second.Started.WaitAsync(Patience);
        second.Finish();
        await secondRun.WaitAsync(Patience);
    }

    // Accepts and applies events in steps of 10 ms, as requests and drains would.
    private static void Steady(IngestionPressure pressure, FakeTimeProvider clock, int acceptedPerSecond, int appliedPerSecond, int seconds)
    {
        for (var step = 0; step < seconds * 100; step++)
        {
            pressure.EventsAccepted(acceptedPerSecond / 100);
            pressure.EventsApplied(appliedPerSecond / 100);
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }
    }

    private static (DispatchThrottle Throttle, IngestionPressure Pressure, FakeTimeProvider Clock) Create(int concurrentDrains, int busyAt, int requestsInFlight, int saturatedAt = 10_000)
    {
        var options = Options.Create(new IngestionOptions { ConcurrentDrains = concurrentDrains, BusyAtConcurrentRequests = busyAt, SaturatedAtBacklogGrowth = saturatedAt });
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-22T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var pressure = new IngestionPressure(options, clock);
        for (var i = 0; i < requestsInFlight; i++)
        {
            pressure.RequestStarted();
        }

        // The requests have been in flight for a while: the average has caught up with them.
        clock.Advance(TimeSpan.FromSeconds(10));
        return (new DispatchThrottle(options, pressure, clock), pressure, clock);
    }

    private sealed class Drain
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<int> _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public Task<int> RunAsync()
        {
            _started.TrySetResult();
            return _finish.Task;
        }

        public void Finish() => _finish.TrySetResult(1);
    }
}
