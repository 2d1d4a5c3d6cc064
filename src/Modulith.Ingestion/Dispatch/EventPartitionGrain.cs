using Microsoft.Extensions.Logging;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.EventLog;
using Modulith.Ingestion.Segment;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace Modulith.Ingestion.Dispatch;

/// <summary>
/// Feeds one partition of the committed event log to the consumer, in order, and moves the partition's checkpoint
/// after the consumer persisted the effects. Sixteen of these share the load; none sees every event. On a silo
/// failure Orleans activates the partition elsewhere and it resumes from the checkpoint.
/// </summary>
public interface IEventPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>New events were committed to this partition; drain it soon.</summary>
    [OneWay, AlwaysInterleave]
    Task NudgeAsync();

    /// <summary>Drains the partition now and answers once nothing is pending (used by tests and at start).</summary>
    Task DrainAsync();

    /// <summary>
    /// Answers once the drain under way, if any, has applied and checkpointed what it read from the log, so that events
    /// changed in the log since (an erasure) are seen in their new form by every later drain.
    /// </summary>
    [AlwaysInterleave]
    Task AwaitDrainUnderWayAsync();
}

internal interface IDispatchNotifier
{
    void Notify(IReadOnlySet<int> partitions);
}

internal sealed class DispatchNotifier(IGrainFactory grains) : IDispatchNotifier
{
    public void Notify(IReadOnlySet<int> partitions)
    {
        foreach (var partition in partitions)
        {
            _ = grains.GetGrain<IEventPartitionGrain>(partition).NudgeAsync();
        }
    }
}

/// <summary>
/// Bounds how many partitions of this silo drain at once, so dispatch leaves CPU and the database's write lock to
/// ingestion; each drain then covers more events. While ingestion is busy it yields further: one drain at a time, each
/// followed by a pause as long as it took. While ingestion is saturated (busy, and the backlog growing faster than
/// <see cref="IngestionOptions.SaturatedAtBacklogGrowth"/> events a second) the pause is the longest one: dispatch could
/// not close that gap, so it leaves the machine to the burst and applies it once the burst ends. Acknowledged events are
/// durable before dispatch sees them (ADR 0002), so a burst is accepted first and applied behind it; dispatch never
/// stops, so the backlog still moves (ADR 0008).
/// </summary>
internal sealed class DispatchThrottle(Microsoft.Extensions.Options.IOptions<IngestionOptions> options, IngestionPressure pressure, TimeProvider clock)
    : IDisposable
{
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _drains = new(Math.Max(1, options.Value.ConcurrentDrains), Math.Max(1, options.Value.ConcurrentDrains));
    private readonly SemaphoreSlim _whileBusy = new(1, 1);

    /// <summary>Runs one drain when its turn comes; the drain answers how many events it applied.</summary>
    public async Task<int> RunAsync(Func<Task<int>> drain)
    {
        await _drains.WaitAsync();
        try
        {
            if (!pressure.IsBusy)
            {
                return Applied(await drain());
            }

            await _whileBusy.WaitAsync();
            try
            {
                var started = clock.GetTimestamp();
                var applied = Applied(await drain());
                if (pressure.IsSaturated)
                {
                    await Task.Delay(LongestPause, clock);
                }
                else if (pressure.IsBusy)
                {
                    var took = clock.GetElapsedTime(started);
                    await Task.Delay(took < LongestPause ? took : LongestPause, clock);
                }

                return applied;
            }
            finally
            {
                _whileBusy.Release();
            }
        }
        finally
        {
            _drains.Release();
        }
    }

    private int Applied(int events)
    {
        pressure.EventsApplied(events);
        return events;
    }

    public void Dispose()
    {
        _drains.Dispose();
        _whileBusy.Dispose();
    }
}

internal sealed partial class EventPartitionGrain(
    EventLogStore log,
    ParkedEventStore parking,
    IIngestedEventConsumer consumer,
    DispatchThrottle throttle,
    IngestionPressure pressure,
    Microsoft.Extensions.Options.IOptions<IngestionOptions> options,
    TimeProvider clock,
    ILogger<EventPartitionGrain> logger) : Grain, IEventPartitionGrain, IRemindable
{
    private const int BatchSize = 1_000;

    // After this many failed drains in a row, events are applied one at a time, so that one bad event (a bug, a corrupt
    // stored state) cannot hold up every other customer of the partition; see DrainOneByOneAsync.
    private const int OneByOneAfterFailures = 3;
    private const int OneByOneBatchSize = 100;
    private const int AttemptsBeforeParking = 2;
    private const int LongestStoredError = 2_000;

    private readonly DrainPacing _pacing = new(options.Value.DrainCoalesceWindow, clock);
    private const string KeepAlive = "drain";
    private bool _requested;
    private Task _loop = Task.CompletedTask;
    private Task _drain = Task.CompletedTask;
    private int _failures;

    private int Partition => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The reminder is the durable safety net: after a crash or a lost nudge, the partition drains within a minute.
        await this.RegisterOrUpdateReminder(KeepAlive, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), cancellationToken);
        _requested = true;
        _loop = RunAsync();
    }

    public Task NudgeAsync()
    {
        _requested = true;
        if (_loop.IsCompleted)
        {
            _loop = RunAsync();
        }

        return Task.CompletedTask;
    }

    public async Task DrainAsync()
    {
        await NudgeAsync();
        await _loop;
        while (_requested || !_loop.IsCompleted)
        {
            await NudgeAsync();
            await _loop;
        }
    }

    public async Task AwaitDrainUnderWayAsync()
    {
        try
        {
            await _drain;
        }
        catch (Exception)
        {
            // A failed drain checkpointed nothing it read; the next one reads the log again.
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => NudgeAsync();

    private async Task RunAsync()
    {
        while (_requested)
        {
            var wait = _pacing.WaitBeforeNextDrain(pressure.IsBusy);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock);
            }

            _pacing.DrainStarted();
            _requested = false;
            try
            {
                if (_failures >= OneByOneAfterFailures)
                {
                    await (_drain = throttle.RunAsync(DrainOneByOneAsync));
                }

                while (await DrainOnceAsync() == BatchSize)
                {
                }

                _pacing.DrainEnded();
                _failures = 0;
            }
            catch (Exception exception)
            {
                _failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(_failures, 9))));
                LogDispatchFailed(exception, Partition, delay.TotalMilliseconds);
                await Task.Delay(delay);
                _requested = true;
            }
        }
    }

    private Task<int> DrainOnceAsync()
    {
        var drain = throttle.RunAsync(DrainBatchAsync);
        _drain = drain;
        return drain;
    }

    private async Task<int> DrainBatchAsync()
    {
        var pending = await log.ReadPendingAsync(Partition, BatchSize, CancellationToken.None);
        if (pending.Count == 0)
        {
            return 0;
        }

        var done = new List<(IngestedEvent, string?)>(pending.Count);
        done.AddRange(pending.Where(IsErased).Select(e => (e, (string?)null)));
        foreach (var workspace in pending.Where(e => !IsErased(e)).GroupBy(e => e.WorkspaceId))
        {
            var events = workspace.ToList();
            var customers = await consumer.ConsumeAsync(workspace.Key, events, CancellationToken.None);
            for (var i = 0; i < events.Count; i++)
            {
                done.Add((events[i], customers[i]));
            }
        }

        await log.MarkDispatchedAsync(Partition, done, CancellationToken.None);
        return pending.Count;
    }

    /// <summary>
    /// Applies the oldest pending events one at a time. An event that fails on its own again, while the store answers,
    /// is parked: set aside with the reason, still in the log, until an operator retries it
    /// (<c>POST /api/ingestion/parked-events/retry</c>). While the store does not answer, or the cluster is moving the
    /// grains of a silo that failed, nothing is parked and the failure goes to the usual retry with backoff: then the
    /// store or the cluster is at fault, not the event.
    /// </summary>
    private async Task<int> DrainOneByOneAsync()
    {
        var pending = await log.ReadPendingAsync(Partition, OneByOneBatchSize, CancellationToken.None);
        var done = new List<(IngestedEvent, string?)>(pending.Count);
        try
        {
            foreach (var e in pending)
            {
                if (IsErased(e))
                {
                    done.Add((e, null));
                }
                else if (await ApplyAloneAsync(e) is { } customerId)
                {
                    done.Add((e, customerId));
                }
            }
        }
        finally
        {
            await log.MarkDispatchedAsync(Partition, done, CancellationToken.None);
        }

        return pending.Count;
    }

    private async Task<string?> ApplyAloneAsync(IngestedEvent e)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await consumer.ConsumeAsync(e.WorkspaceId, [e], CancellationToken.None))[0];
            }
            catch (Exception failure) when (attempt < AttemptsBeforeParking)
            {
                LogAloneFailed(failure, e.WorkspaceId, e.MessageId, attempt);
            }
            catch (Exception failure)
            {
                if (ClusterFailures.IsTransient(failure) || !await parking.IsReachableAsync(CancellationToken.None))
                {
                    throw;
                }

                var error = $"{failure.GetType().Name}: {failure.Message}";
                await parking.ParkAsync(e, Partition, attempt, error.Length > LongestStoredError ? error[..LongestStoredError] : error, clock.GetUtcNow(), CancellationToken.None);
                LogParked(failure, e.WorkspaceId, e.MessageId, e.Sequence, Partition, attempt);
                return null;
            }
        }
    }

    // An event is stored with a user id or an anonymous id (validation requires one); it has neither once an erasure
    // reached it before dispatch did (IEventLog.EraseUnattributedEventsAsync), and then nothing is left to apply.
    private static bool IsErased(IngestedEvent e) => e.UserId is null && e.AnonymousId is null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {MessageId} of workspace {WorkspaceId} failed to apply on its own (attempt {Attempt})")]
    private partial void LogAloneFailed(Exception exception, string workspaceId, string messageId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Parked event {MessageId} (sequence {Sequence}) of workspace {WorkspaceId} in partition {Partition} after {Attempts} failed attempts on its own; it waits for a retry")]
    private partial void LogParked(Exception exception, string workspaceId, string messageId, long sequence, int partition, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatching partition {Partition} failed; retrying in {DelayMs} ms")]
    private partial void LogDispatchFailed(Exception exception, int partition, double delayMs);
}

/// <summary>Failures of the cluster rather than of an event: they pass once Orleans has moved a failed silo's grains.</summary>
internal static class ClusterFailures
{
    /// <summary>True for a silo that is gone or unreachable and for a call that timed out, also inside other exceptions.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsTransient),
        { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };
}

/// <summary>Drains every partition: at start (events committed before a crash) and on demand.</summary>
public sealed class EventDispatch(IGrainFactory grains)
{
    /// <summary>Wakes every partition; answers without waiting for them.</summary>
    public void WakeAll()
    {
        for (var partition = 0; partition < SegmentNormalizer.PartitionCount; partition++)
        {
            _ = grains.GetGrain<IEventPartitionGrain>(partition).NudgeAsync();
        }
    }

    /// <summary>Drains every partition and answers when nothing committed is left undispatched.</summary>
    public Task DrainAllAsync() =>
        Task.WhenAll(Enumerable.Range(0, SegmentNormalizer.PartitionCount).Select(p => grains.GetGrain<IEventPartitionGrain>(p).DrainAsync()));
}
