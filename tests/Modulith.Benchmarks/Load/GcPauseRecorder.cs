using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Modulith.Benchmarks.Load;

/// <summary>
/// One pause of a process's managed threads for a collection: from the suspension's start to the restart's end, with the
/// number of heaps the collection worked on (server GC with dynamic adaptation changes it while the process runs), what it
/// promoted out of the generations it collected and the size of the oldest generation after it.
/// </summary>
public sealed record GcPause(DateTime StartedUtc, double Milliseconds, int Generation, int Heaps, long PromotedBytes, long Gen2Bytes)
{
    /// <summary>From the suspension's start until every managed thread had stopped.</summary>
    public double SuspensionMilliseconds { get; init; }

    /// <summary>
    /// How long the marking of each kind of root took (the runtime's GC root kinds: 0 stacks, 1 finalization queue,
    /// 2 handles, 3 the older generations' cards, 6 dependent handles...), the longest over the heaps, from the gaps between
    /// a heap's mark events.
    /// </summary>
    public IReadOnlyDictionary<int, double> MarkMilliseconds { get; init; } = new Dictionary<int, double>();

    /// <summary>From the collection's start to its end: marking, planning, relocating, compacting or sweeping.</summary>
    public double CollectionMilliseconds { get; init; }

    public DateTime EndedUtc => StartedUtc.AddMilliseconds(Milliseconds);
}

/// <summary>A thread the process's thread pool added because queued work made no progress for half a second.</summary>
public sealed record StarvationInjection(DateTime AtUtc, int WorkerThreads);

/// <summary>
/// Records another .NET process's GC pauses from its runtime events (EventPipe, the GC keyword at informational level,
/// which the runtime emits a few times per collection, so the cost to the process is small), and the threads its thread pool
/// added for starvation (the threading keyword: one event per change of the pool's size).
/// </summary>
public sealed class GcPauseRecorder : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly Task _reading;
    private readonly List<GcPause> _pauses = [];
    private readonly List<StarvationInjection> _injections = [];
    private readonly Dictionary<int, DateTime> _lastMarkOnHeap = [];
    private readonly Dictionary<(int Heap, int Kind), double> _heapMark = [];
    private readonly Dictionary<int, double> _mark = [];
    private DateTime? _suspendedAt;
    private int _generation;
    private int _heaps;
    private long _promoted;
    private long _gen2;
    private double _suspension;
    private DateTime? _collectionStartedAt;
    private double _collection;

    private GcPauseRecorder(int processId)
    {
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational,
            (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.Threading));
        _session = new DiagnosticsClient(processId).StartEventPipeSession(provider, requestRundown: false);
        var source = new EventPipeEventSource(_session.EventStream);
        source.Clr.GCSuspendEEStart += e => _suspendedAt = e.TimeStamp.ToUniversalTime();
        source.Clr.GCSuspendEEStop += e => _suspension = _suspendedAt is { } at ? (e.TimeStamp.ToUniversalTime() - at).TotalMilliseconds : 0;
        source.Clr.GCStart += e =>
        {
            _generation = e.Depth;
            _collectionStartedAt = e.TimeStamp.ToUniversalTime();
            _lastMarkOnHeap.Clear();
            _heapMark.Clear();
            _mark.Clear();
        };
        source.Clr.GCMarkWithType += e =>
        {
            var at = e.TimeStamp.ToUniversalTime();
            if (_collectionStartedAt is not { } started)
            {
                return;
            }

            var since = _lastMarkOnHeap.TryGetValue(e.HeapNum, out var last) ? last : started;
            _lastMarkOnHeap[e.HeapNum] = at;
            _heapMark.TryGetValue((e.HeapNum, e.Type), out var sum);
            _heapMark[(e.HeapNum, e.Type)] = sum + (at - since).TotalMilliseconds;
            _mark[e.Type] = Math.Max(_mark.GetValueOrDefault(e.Type), _heapMark[(e.HeapNum, e.Type)]);
        };
        source.Clr.GCStop += e =>
        {
            _collection = _collectionStartedAt is { } started ? (e.TimeStamp.ToUniversalTime() - started).TotalMilliseconds : 0;
            _collectionStartedAt = null;
        };
        source.Clr.GCGlobalHeapHistory += e => _heaps = e.NumHeaps;
        source.Clr.GCHeapStats += e =>
        {
            _promoted = e.TotalPromotedSize0 + (_generation >= 1 ? e.TotalPromotedSize1 : 0);
            _gen2 = e.GenerationSize2;
        };
        source.Clr.GCRestartEEStop += e =>
        {
            if (_suspendedAt is { } suspended)
            {
                lock (_pauses)
                {
                    _pauses.Add(new GcPause(suspended, (e.TimeStamp.ToUniversalTime() - suspended).TotalMilliseconds, _generation, _heaps, _promoted, _gen2)
                    {
                        SuspensionMilliseconds = _suspension,
                        MarkMilliseconds = new Dictionary<int, double>(_mark),
                        CollectionMilliseconds = _collection,
                    });
                }

                _suspendedAt = null;
            }
        };
        source.Clr.ThreadPoolWorkerThreadAdjustmentAdjustment += e =>
        {
            if (e.Reason == ThreadAdjustmentReason.Starvation)
            {
                lock (_injections)
                {
                    _injections.Add(new StarvationInjection(e.TimeStamp.ToUniversalTime(), (int)e.NewWorkerThreadCount));
                }
            }
        };
        _reading = Task.Factory.StartNew(source.Process, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Starts recording, or says why it cannot and returns null (the benchmark then runs without it).</summary>
    public static GcPauseRecorder? TryAttach(int processId)
    {
        try
        {
            return new GcPauseRecorder(processId);
        }
        catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or IOException or TimeoutException)
        {
            Console.WriteLine($"GC pauses not recorded: {e.Message}");
            return null;
        }
    }

    /// <summary>The pauses that started in the window, once the runtime has had time to hand over its buffered events.</summary>
    public async Task<IReadOnlyList<GcPause>> PausesAsync(DateTime fromUtc, DateTime toUtc)
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        lock (_pauses)
        {
            return [.. _pauses.Where(p => p.StartedUtc >= fromUtc && p.StartedUtc < toUtc)];
        }
    }

    /// <summary>
    /// A line on the threads added for starvation in a window, and how many of the given slow intervals had one added while
    /// they ran or within the half second after (the pool adds one only after half a second without progress).
    /// </summary>
    public string DescribeStarvation(DateTime fromUtc, DateTime toUtc, IReadOnlyList<(DateTime From, DateTime To)> slow)
    {
        List<StarvationInjection> injections;
        lock (_injections)
        {
            injections = [.. _injections.Where(i => i.AtUtc >= fromUtc && i.AtUtc < toUtc.AddSeconds(1))];
        }

        var stalled = slow.Count(s => injections.Any(i => i.AtUtc >= s.From && i.AtUtc < s.To.AddMilliseconds(500)));
        var threads = injections.Count == 0 ? "" : $", up to {injections.Max(i => i.WorkerThreads)} worker threads";
        return $"Thread pool starvation during the probes: {injections.Count} threads added{threads}; {stalled} of the {slow.Count} probes over 100 ms were running when or just before one was added.";
    }

    /// <summary>A line on the pauses in a window, and how many of the given slow intervals overlapped one of 20 ms or more.</summary>
    public static string Describe(IReadOnlyList<GcPause> pauses, TimeSpan window, IReadOnlyList<(DateTime From, DateTime To)> slow)
    {
        if (pauses.Count == 0)
        {
            return "GC pauses during the probes: none recorded.";
        }

        var sorted = pauses.Select(p => p.Milliseconds).Order().ToList();
        double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
        var byGeneration = string.Join(", ", pauses.GroupBy(p => p.Generation).OrderBy(g => g.Key).Select(g => $"gen{g.Key} {g.Count()}"));
        var byHeaps = string.Join(", ", pauses.GroupBy(p => p.Heaps).OrderBy(g => g.Key).Select(g => $"{g.Count()} on {g.Key} heap{(g.Key == 1 ? "" : "s")}"));
        var share = sorted.Sum() / window.TotalMilliseconds;
        var promoted = pauses.Where(p => p.Generation < 2).Select(p => p.PromotedBytes / 1_048_576.0).Order().ToList();
        var promotedText = promoted.Count == 0 ? "" : $"; gen0/gen1 promoted p50 / max {promoted[promoted.Count / 2]:N1} / {promoted[^1]:N1} MB, gen2 {pauses[^1].Gen2Bytes / 1_048_576.0:N0} MB at the end";
        var overlapped = slow.Count(s => pauses.Any(p => p.Milliseconds >= 20 && p.StartedUtc < s.To && p.EndedUtc > s.From));
        return string.Create(CultureInfo.InvariantCulture,
            $"GC pauses during the probes: {pauses.Count} ({byGeneration}; {byHeaps}), {pauses.Count / window.TotalSeconds:N2} a second, p50 / p90 / max {P(0.5):N1} / {P(0.9):N1} / {sorted[^1]:N1} ms, {share:P1} of the time{promotedText}; {overlapped} of the {slow.Count} probes over 100 ms overlapped a pause of 20 ms or more.");
    }

    /// <summary>
    /// A line on where the pauses' time went: the suspension, the marking of each kind of root (the longest heap) and the
    /// rest of the collection after marking (planning, relocating, compacting or sweeping), as p50 / max over the pauses.
    /// </summary>
    public static string DescribePhases(IReadOnlyList<GcPause> pauses)
    {
        if (pauses.Count == 0)
        {
            return "GC pause phases: none recorded.";
        }

        static string Spread(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:N1} / {sorted[^1]:N1}");
        }

        string[] kinds = ["stacks", "finalization queue", "handles", "older generations' cards", "sized refs", "mark stack overflow", "dependent handles", "new finalizable objects", "stealing", "background GC"];
        var marked = pauses.SelectMany(p => p.MarkMilliseconds.Keys).Distinct().Order()
            .Select(kind => $"{(kind >= 0 && kind < kinds.Length ? kinds[kind] : $"kind {kind}")} {Spread(pauses.Select(p => p.MarkMilliseconds.GetValueOrDefault(kind)))}");
        var afterMarking = pauses.Select(p => Math.Max(0, p.CollectionMilliseconds - p.MarkMilliseconds.Values.Sum()));
        return $"GC pause phases, p50 / max ms over {pauses.Count} pauses: suspension {Spread(pauses.Select(p => p.SuspensionMilliseconds))}; " +
            $"collection {Spread(pauses.Select(p => p.CollectionMilliseconds))}, of it marking {string.Join(", ", marked)}; after marking about {Spread(afterMarking)}.";
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or IOException or TimeoutException)
        {
            // The process has exited: its stream has ended too.
        }

        _reading.Wait(TimeSpan.FromSeconds(5));
        _session.Dispose();
    }
}
