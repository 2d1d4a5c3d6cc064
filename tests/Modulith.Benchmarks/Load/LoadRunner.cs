using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Modulith.Benchmarks.Traffic;

namespace Modulith.Benchmarks.Load;

/// <summary>Closed-loop HTTP load: N concurrent senders, each posting its next request as soon as the previous is answered.</summary>
public static class LoadRunner
{
    /// <summary>
    /// A measured run. <paramref name="ServerCpu"/> is the server process's CPU time during the measurement (zero when not
    /// known), <paramref name="ClientCpu"/> the load generator's own: rates move with this machine's speed from run to run,
    /// CPU per event much less.
    /// </summary>
    public sealed record Result(long Requests, long Events, long Failures, double Seconds, double[] LatenciesMs, TimeSpan ServerCpu = default, TimeSpan ClientCpu = default, string Stolen = "n/a")
    {
        public double EventsPerSecond => Events / Seconds;

        /// <summary>The server's CPU time per event accepted, in microseconds.</summary>
        public double ServerMicrosecondsPerEvent => Events == 0 ? 0 : ServerCpu.TotalMicroseconds / Events;

        /// <summary>The load generator's CPU time per event sent and accepted, in microseconds.</summary>
        public double ClientMicrosecondsPerEvent => Events == 0 ? 0 : ClientCpu.TotalMicroseconds / Events;

        public double Percentile(double p) => LatenciesMs.Length == 0 ? 0 : LatenciesMs[Math.Min(LatenciesMs.Length - 1, (int)(p * LatenciesMs.Length))];
    }

    /// <summary>Single Segment messages from realistic sessions, each posted to its own route.</summary>
    public static IReadOnlyList<(string Route, string Body, int Events)> SingleMessages(int seed, int count)
    {
        var traffic = new ShopTraffic(seed, new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
        var messages = new List<(string, string, int)>(count);
        while (messages.Count < count)
        {
            foreach (var message in traffic.Session())
            {
                var node = JsonNode.Parse(message)!.AsObject();
                var type = node["type"]!.GetValue<string>();
                node.Remove("type");
                messages.Add(("/v1/" + type, node.ToJsonString(), 1));
            }
        }

        return messages;
    }

    /// <summary>Batches of <paramref name="size"/> messages from realistic sessions.</summary>
    public static IReadOnlyList<(string Route, string Body, int Events)> Batches(int seed, int count, int size)
    {
        var traffic = new ShopTraffic(seed, new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
        var batches = new List<(string, string, int)>(count);
        var current = new List<string>(size);
        while (batches.Count < count)
        {
            foreach (var message in traffic.Session())
            {
                current.Add(message);
                if (current.Count == size)
                {
                    batches.Add(("/v1/batch", "{\"batch\":[" + string.Join(',', current) + "]}", size));
                    current.Clear();
                }
            }
        }

        return batches;
    }

    // MODULITH_BENCH_PROGRESS=1: the events answered in each second since the start (warm-up included), on standard error,
    // to see how a host's rate moves while it warms up and while dispatch yields.
    private static async Task ReportProgressAsync(Func<long> answered, CancellationToken stop)
    {
        var started = Stopwatch.StartNew();
        var last = 0L;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = answered();
                await Console.Error.WriteLineAsync(FormattableString.Invariant($"{started.Elapsed.TotalSeconds:F0} s: {now - last} events"));
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public static async Task<Result> RunAsync(Uri address, string writeKey, IReadOnlyList<(string Route, string Body, int Events)> requests, int concurrency, TimeSpan duration, TimeSpan warmup, Func<TimeSpan>? serverCpu = null)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        var next = -1;
        long sent = 0, events = 0, failures = 0, answered = 0;
        var latencies = new List<double>[concurrency];
        var measuring = false;
        using var stop = new CancellationTokenSource();

        async Task Sender(int worker)
        {
            latencies[worker] = [];
            while (!stop.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref next);
                var (route, body, count) = requests[index % requests.Count];
                var cycle = index / requests.Count;
                if (cycle > 0)
                {
                    // Repeated requests get fresh message ids, so they are new events, not deduplicated ones.
                    body = body.Replace("\"messageId\":\"msg-", $"\"messageId\":\"msg{cycle}-", StringComparison.Ordinal);
                }
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"), CancellationToken.None);
                    Interlocked.Add(ref answered, count);
                    if (!measuring)
                    {
                        continue;
                    }

                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref sent);
                        Interlocked.Add(ref events, count);
                        latencies[worker].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        var senders = Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Sender(w))).ToArray();
        var progress = Environment.GetEnvironmentVariable("MODULITH_BENCH_PROGRESS") == "1" ? ReportProgressAsync(() => Interlocked.Read(ref answered), stop.Token) : Task.CompletedTask;
        await Task.Delay(warmup);
        using var self = Process.GetCurrentProcess();
        var (serverStart, clientStart) = (serverCpu?.Invoke() ?? TimeSpan.Zero, self.TotalProcessorTime);
        var stealStart = CpuSteal.Read();
        measuring = true;
        var clock = Stopwatch.StartNew();
        var finished = Task.WhenAll(senders);
        await Task.WhenAny(finished, Task.Delay(duration));
        var seconds = clock.Elapsed.TotalSeconds;
        var (s, e) = (Interlocked.Read(ref sent), Interlocked.Read(ref events));
        self.Refresh();
        var (serverUsed, clientUsed) = ((serverCpu?.Invoke() ?? TimeSpan.Zero) - serverStart, self.TotalProcessorTime - clientStart);
        var stolen = CpuSteal.Between(stealStart, CpuSteal.Read());
        await stop.CancelAsync();
        await finished;
        await progress;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(s, e, Interlocked.Read(ref failures), seconds, all, serverUsed, clientUsed, stolen);
    }
}
