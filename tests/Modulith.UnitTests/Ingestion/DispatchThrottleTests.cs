using Microsoft.Extensions.Logging.Abstractions;
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
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromSeconds(2));
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
        StartRequests(pressure, 20);

        clock.Advance(TimeSpan.FromMilliseconds(50));
        Assert.False(pressure.IsBusy);
        FinishRequests(pressure, 20);

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
    public void A_stall_of_dispatch_for_a_few_seconds_does_not_saturate_a_load_below_the_saturation_rate()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);

        // 3,000 events a second, with dispatch stalled for three seconds.
        var saturated = CheckedEverySecond(pressure, clock, acceptedPerSecond: 3_000, appliedPerSecond: 0, seconds: 3);

        Assert.True(pressure.IsBusy);
        Assert.All(saturated, Assert.False);
    }

    [Fact]
    public void A_load_held_down_to_a_few_thousand_events_a_second_saturates_once_dispatch_has_fallen_behind_for_five_seconds()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);

        // Measured with single events on a host just started: dispatch at its busy pace applied 2,500-3,300 events a
        // second and held ingestion to 500-7,800 for 17-34 s, a gap under the threshold, where stepping aside let it
        // accept 14,000-25,000.
        var saturated = CheckedEverySecond(pressure, clock, acceptedPerSecond: 5_000, appliedPerSecond: 2_800, seconds: 8);

        Assert.All(saturated[..5], Assert.False);
        Assert.All(saturated[6..], Assert.True);
    }

    [Fact]
    public void A_load_held_down_by_dispatchs_busy_pace_saturates_once_the_backlog_grows_past_the_threshold()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);

        // Measured with single events: dispatch at its busy pace applied 4,400 events a second and held ingestion to
        // 10,000, where stepping aside let it accept 21,000-27,000.
        Steady(pressure, clock, acceptedPerSecond: 10_000, appliedPerSecond: 4_400, seconds: 3);

        Assert.True(pressure.IsSaturated);
    }

    [Fact]
    public void After_a_minute_saturation_gives_way_to_a_probe_and_ends_if_dispatch_keeps_up_during_it()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        StartBurst(pressure, clock);

        var saturated = Burst(pressure, clock, seconds: 60);
        Assert.All(saturated[..59], Assert.True);
        Assert.False(saturated[59], "no probe after a minute of saturation");

        // At its busy pace dispatch keeps up: the probe ends the saturation.
        saturated = CheckedEverySecond(pressure, clock, acceptedPerSecond: 6_000, appliedPerSecond: 6_000, seconds: 10);
        Assert.All(saturated, Assert.False);

        // The next burst saturates again for a minute, not for twice as long.
        StartBurst(pressure, clock);
        saturated = Burst(pressure, clock, seconds: 60);
        Assert.False(saturated[59], "the saturation after a probe that ended it did not last a minute again");
    }

    [Fact]
    public void A_burst_that_still_outpaces_dispatch_during_the_probe_saturates_again_for_twice_as_long()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        StartBurst(pressure, clock);
        Burst(pressure, clock, seconds: 60);

        var probe = CheckedEverySecond(pressure, clock, acceptedPerSecond: 10_000, appliedPerSecond: 4_400, seconds: 3);
        Assert.All(probe[..2], Assert.False);
        Assert.True(probe[2], "the burst outpaced dispatch during the probe, yet it did not saturate again");

        var saturated = Burst(pressure, clock, seconds: 120);
        Assert.All(saturated[..119], Assert.True);
        Assert.False(saturated[119], "the second saturation did not end in a probe after two minutes");
    }

    [Fact]
    public void Ingestion_is_not_saturated_once_it_is_no_longer_busy_or_once_dispatch_keeps_up()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 0, seconds: 3);
        Assert.True(pressure.IsSaturated);

        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 60_000, seconds: 5);
        Assert.False(pressure.IsSaturated);

        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 0, seconds: 3);
        Assert.True(pressure.IsSaturated);
        FinishRequests(pressure, 8);

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
        await Task.Delay(50);
        clock.Advance(TimeSpan.FromSeconds(2));
        await secondRun.WaitAsync(Patience);
    }

    [Fact]
    public void Once_ingestion_has_gone_quiet_the_next_burst_saturates_it_for_a_minute_again()
    {
        var (_, pressure, clock) = Create(concurrentDrains: 2, busyAt: 4, requestsInFlight: 8);
        StartBurst(pressure, clock);
        Burst(pressure, clock, seconds: 63);
        Assert.True(pressure.IsSaturated, "not saturated again after the probe");

        FinishRequests(pressure, 8);

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(pressure.IsBusy);
        StartRequests(pressure, 8);

        clock.Advance(TimeSpan.FromSeconds(5));
        StartBurst(pressure, clock);
        var saturated = Burst(pressure, clock, seconds: 60);
        Assert.False(saturated[59], "the burst after a quiet spell was saturated for longer than a minute");
    }

    private static void StartRequests(IngestionPressure pressure, int count)
    {
        for (var i = 0; i < count; i++)
        {
            pressure.RequestStarted();
        }
    }

    private static void FinishRequests(IngestionPressure pressure, int count)
    {
        for (var i = 0; i < count; i++)
        {
            pressure.RequestFinished();
        }
    }

    // A burst of 60,000 events a second that dispatch, stepping aside, applies 500 of: three seconds saturate ingestion.
    private static void StartBurst(IngestionPressure pressure, FakeTimeProvider clock)
    {
        Steady(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 500, seconds: 3);
        Assert.True(pressure.IsSaturated);
    }

    private static bool[] Burst(IngestionPressure pressure, FakeTimeProvider clock, int seconds) =>
        CheckedEverySecond(pressure, clock, acceptedPerSecond: 60_000, appliedPerSecond: 500, seconds);

    // Steady load, asking whether ingestion is saturated at the end of every second, as drains would; the answers in order.
    private static bool[] CheckedEverySecond(IngestionPressure pressure, FakeTimeProvider clock, int acceptedPerSecond, int appliedPerSecond, int seconds)
    {
        var answers = new bool[seconds];
        for (var second = 0; second < seconds; second++)
        {
            Steady(pressure, clock, acceptedPerSecond, appliedPerSecond, 1);
            answers[second] = pressure.IsSaturated;
        }

        return answers;
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

    private static (DispatchThrottle Throttle, IngestionPressure Pressure, FakeTimeProvider Clock) Create(int concurrentDrains, int busyAt, int requestsInFlight, int? saturatedAt = null)
    {
        var options = Options.Create(new IngestionOptions { ConcurrentDrains = concurrentDrains, BusyAtConcurrentRequests = busyAt });
        options.Value.SaturatedAtBacklogGrowth = saturatedAt ?? options.Value.SaturatedAtBacklogGrowth;
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-22T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var pressure = new IngestionPressure(options, clock, NullLogger<IngestionPressure>.Instance);
        StartRequests(pressure, requestsInFlight);

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
