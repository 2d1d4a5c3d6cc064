using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Modulith.Ingestion.Dispatch;
using Modulith.Ingestion.Segment;

namespace Modulith.Ingestion.EventLog;

/// <summary>Ingestion limits (<c>Modulith:Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Ingestion";

    /// <summary>Events accepted but not yet committed before new requests get 429.</summary>
    public int MaxPendingEvents { get; set; } = 50_000;

    /// <summary>The most events written in one transaction.</summary>
    public int MaxEventsPerCommit { get; set; } = 5_000;

    /// <summary>
    /// Group commits that may run at the same time on PostgreSQL, where one transaction's round trips and WAL flush would
    /// otherwise leave the server's other cores idle (docs/performance.md). The embedded SQLite database has one writer,
    /// so there it is always 1.
    /// </summary>
    public int ConcurrentCommitsOnPostgreSql { get; set; } = 3;

    /// <summary>
    /// Dispatch partitions of one silo that apply events at the same time. A drain spends much of its time waiting for
    /// commits, so four keep the backlog of each partition short under a steady load (session 18 in docs/performance.md);
    /// while ingestion is busy only one runs (ADR 0008).
    /// </summary>
    public int ConcurrentDrains { get; set; } = 4;

    /// <summary>
    /// How far apart one partition's drains are, to collect more events per drain (fewer transactions, one state write
    /// per customer for all of its events in the window). While ingestion is quiet, new events wait only for the rest of
    /// the window that began with the partition's last drain, and a partition quiet for a window drains them at once;
    /// while ingestion is busy, a partition rests the whole window after each drain.
    /// </summary>
    public TimeSpan DrainCoalesceWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Ingestion counts as busy while at least this many of its HTTP requests are in flight on average over about the
    /// last second; dispatch then yields to it (one drain at a time, pausing between drains). 0 turns the yielding off.
    /// </summary>
    public int BusyAtConcurrentRequests { get; set; } = 4;

    /// <summary>
    /// While ingestion is busy and accepts this many events a second more than dispatch applies (on average over about
    /// the last second), or a quarter of that for 5 s on end, ingestion counts as saturated: dispatch steps almost aside
    /// (one drain every 2 s) and applies the burst once it ends. Every so often it goes back to its busy pace for a few
    /// seconds, to see whether it could now keep up (ADR 0008). A stall of dispatch for a few seconds under a steady load
    /// below this rate does not saturate ingestion. 0 turns it off.
    /// </summary>
    public int SaturatedAtBacklogGrowth { get; set; } = 4_000;
}

/// <summary>
/// How busy ingestion is: its HTTP requests in flight, averaged over about the last second (exponentially, weighted
/// by time). A steady stream of requests counts, a moment's pile-up behind a pause (a collection, a slow commit) does not.
/// It also keeps the events accepted and the events applied over about the last second, to tell a burst that dispatch
/// cannot follow from a load it keeps up with.
/// </summary>
/// <remarks>
/// While saturated, dispatch applies almost nothing, so the rates no longer say what it could apply at its busy pace.
/// Saturation therefore lasts a minute, then gives way to a probe of 3 s at the busy pace; if the backlog still grows by
/// a quarter of the threshold during the probe, the next saturation lasts twice as long (up to 10 minutes). Without the
/// probe, a steady load that dispatch could follow would keep it aside for as long as the load lasted once a stall of a
/// second had saturated it.
/// </remarks>
internal sealed partial class IngestionPressure(IOptions<IngestionOptions> options, TimeProvider clock, ILogger<IngestionPressure> logger)
{
    private const double SmoothingSeconds = 1.0;
    private static readonly TimeSpan FirstSaturation = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LongestSaturation = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(3);

    // How long a backlog growing by a quarter of the saturation rate takes to saturate ingestion.
    private static readonly TimeSpan HeldDownFor = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private long? _saturatedSince;
    private bool _saturatedLately;
    private long? _probeStarted;
    private long? _outgrownSince;
    private long _acceptedInProbe;
    private long _appliedInProbe;
    private TimeSpan _saturation = FirstSaturation;
    private int _inFlight;
    private double _average;
    private double _acceptedLately;
    private double _appliedLately;
    private long _updated = clock.GetTimestamp();

    /// <summary>
    /// True while, on average and rounded, at least <see cref="IngestionOptions.BusyAtConcurrentRequests"/> requests
    /// have been in flight.
    /// </summary>
    public bool IsBusy
    {
        get
        {
            lock (_gate)
            {
                Advance();
                if (BusyNow())
                {
                    return true;
                }

                EndSaturation();
                return false;
            }
        }
    }

    /// <summary>
    /// True while ingestion is busy and its backlog outgrows dispatch: it grows by at least
    /// <see cref="IngestionOptions.SaturatedAtBacklogGrowth"/> events a second (events accepted minus events applied, on
    /// average over about the last second), or by at least a quarter of that for 5 s on end, as it does when dispatch's
    /// busy pace holds ingestion down to a few thousand events a second. Not during the probes that follow each
    /// saturation (see the remarks on the class).
    /// </summary>
    public bool IsSaturated
    {
        get
        {
            var growthAt = options.Value.SaturatedAtBacklogGrowth;
            if (growthAt <= 0)
            {
                return false;
            }

            var heldDownAt = growthAt / 4.0;

            lock (_gate)
            {
                Advance();
                var now = clock.GetTimestamp();
                var growth = (_acceptedLately - _appliedLately) / SmoothingSeconds;
                if (!BusyNow())
                {
                    _outgrownSince = null;
                    EndSaturation();
                    return false;
                }

                _outgrownSince = growth >= heldDownAt ? _outgrownSince ?? now : null;
                if (_probeStarted is { } probing)
                {
                    var probed = clock.GetElapsedTime(probing, now);
                    if (probed < Probe)
                    {
                        return false;
                    }

                    // The probe's verdict, from its own counts (the averages still remember the saturation before it): at
                    // its busy pace, does dispatch still fall behind?
                    _probeStarted = null;
                    if ((_acceptedInProbe - _appliedInProbe) / probed.TotalSeconds < heldDownAt)
                    {
                        _outgrownSince = null;
                        EndSaturation();
                        return false;
                    }

                    Saturate(now);
                    return true;
                }

                var outgrown = growth >= growthAt || (_outgrownSince is { } since && clock.GetElapsedTime(since, now) >= HeldDownFor);
                if (!outgrown && (_saturatedSince is null || _outgrownSince is null))
                {
                    EndSaturation();
                    return false;
                }

                var saturatedSince = _saturatedSince ?? Saturate(now);
                if (clock.GetElapsedTime(saturatedSince, now) < _saturation)
                {
                    return true;
                }

                _saturatedSince = null;
                _probeStarted = now;
                _outgrownSince = null;
                _acceptedInProbe = 0;
                _appliedInProbe = 0;
                _saturation = _saturation * 2 < LongestSaturation ? _saturation * 2 : LongestSaturation;
                LogProbing(Probe.TotalSeconds);
                return false;
            }
        }
    }

    private long Saturate(long now)
    {
        _saturatedSince = now;
        _saturatedLately = true;
        LogSaturated(_acceptedLately / SmoothingSeconds, _appliedLately / SmoothingSeconds, _saturation.TotalSeconds);
        return now;
    }

    public void EventsAccepted(int count)
    {
        lock (_gate)
        {
            Advance();
            _acceptedLately += count;
            _acceptedInProbe += count;
        }
    }

    public void EventsApplied(int count)
    {
        lock (_gate)
        {
            Advance();
            _appliedLately += count;
            _appliedInProbe += count;
        }
    }

    public void RequestStarted()
    {
        lock (_gate)
        {
            Advance();
            _inFlight++;
        }
    }

    public void RequestFinished()
    {
        lock (_gate)
        {
            Advance();
            _inFlight--;
        }
    }

    private void Advance()
    {
        var now = clock.GetTimestamp();
        var keep = Math.Exp(-clock.GetElapsedTime(_updated, now).TotalSeconds / SmoothingSeconds);
        _average = _inFlight + ((_average - _inFlight) * keep);
        _acceptedLately *= keep;
        _appliedLately *= keep;
        _updated = now;
    }

    private void EndSaturation()
    {
        if (_saturatedLately)
        {
            _saturatedLately = false;
            LogSaturationEnded(_acceptedLately / SmoothingSeconds, _appliedLately / SmoothingSeconds);
        }

        _saturatedSince = null;
        _probeStarted = null;
        _saturation = FirstSaturation;
    }

    private bool BusyNow()
    {
        var busyAt = options.Value.BusyAtConcurrentRequests;
        return busyAt > 0 && _average >= busyAt - 0.5;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingestion is saturated ({Accepted:F0} events/s accepted, {Applied:F0} applied): dispatch steps almost aside for {Seconds} s, so profiles, leads and segments lag until the burst ends")]
    private partial void LogSaturated(double accepted, double applied, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dispatch runs at its busy pace for {Seconds} s to see whether it keeps up with ingestion")]
    private partial void LogProbing(double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingestion is no longer saturated ({Accepted:F0} events/s accepted, {Applied:F0} applied)")]
    private partial void LogSaturationEnded(double accepted, double applied);
}

/// <summary>Thrown when the appender's queue is full: the caller answers 429.</summary>
internal sealed class OverCapacityException() : Exception("The ingestion queue is full.");

/// <summary>
/// Group commit: requests from all connections queue here; a committer writes everything queued in one transaction and
/// completes each request only after the commit, so a 200 always means durable. SQLite has one committer; PostgreSQL a
/// few, each with its own transaction.
/// </summary>
internal sealed partial class EventAppender(EventLogStore store, IDispatchNotifier notifier, IOptions<IngestionOptions> options, ILogger<EventAppender> logger)
    : BackgroundService
{
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = false });
    private int _pending;

    public async Task AppendAsync(string workspaceId, IReadOnlyList<NormalizedEvent> events, CancellationToken cancellationToken)
    {
        if (Interlocked.Add(ref _pending, events.Count) > options.Value.MaxPendingEvents)
        {
            Interlocked.Add(ref _pending, -events.Count);
            throw new OverCapacityException();
        }

        var request = new Request(workspaceId, events, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Add(ref _pending, -events.Count);
            throw new OverCapacityException();
        }

        // The caller may go away; the commit still happens, and the client's retry is deduplicated on messageId.
        await request.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var committers = store.SupportsConcurrentWriters ? Math.Max(1, options.Value.ConcurrentCommitsOnPostgreSql) : 1;
        await Task.WhenAll(Enumerable.Range(0, committers).Select(_ => Task.Run(() => CommitWhileRunningAsync(stoppingToken), CancellationToken.None)));

        // Shutting down: commit what was accepted, then refuse.
        _queue.Writer.TryComplete();
        var batch = new List<Request>();
        var rows = new List<PendingAppend>();
        while (_queue.Reader.TryRead(out var request))
        {
            batch.Add(request);
            rows.AddRange(request.Events.Select(e => new PendingAppend(request.WorkspaceId, e)));
        }

        if (batch.Count > 0)
        {
            await CommitAsync(batch, rows);
        }
    }

    // One committer takes everything queued while the previous commit ran; with several committers (PostgreSQL) the next
    // group forms and commits while another is still waiting for its WAL flush.
    private async Task CommitWhileRunningAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Request>();
        var rows = new List<PendingAppend>();
        while (await WaitAsync(stoppingToken))
        {
            batch.Clear();
            rows.Clear();
            while (rows.Count < options.Value.MaxEventsPerCommit && _queue.Reader.TryRead(out var request))
            {
                batch.Add(request);
                rows.AddRange(request.Events.Select(e => new PendingAppend(request.WorkspaceId, e)));
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch, rows);
            }
        }
    }

    private async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await _queue.Reader.WaitToReadAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task CommitAsync(List<Request> batch, List<PendingAppend> rows)
    {
        try
        {
            var touched = await store.AppendAsync(rows, CancellationToken.None);
            foreach (var request in batch)
            {
                request.Done.TrySetResult();
            }

            notifier.Notify(touched);
        }
        catch (Exception exception)
        {
            LogCommitFailed(exception, rows.Count);
            foreach (var request in batch)
            {
                request.Done.TrySetException(exception);
            }
        }
        finally
        {
            Interlocked.Add(ref _pending, -rows.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending {Count} events failed; the requests get an error and nothing was acknowledged")]
    private partial void LogCommitFailed(Exception exception, int count);

    private sealed record Request(string WorkspaceId, IReadOnlyList<NormalizedEvent> Events, TaskCompletionSource Done);
}
