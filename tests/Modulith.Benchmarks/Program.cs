using BenchmarkDotNet.Running;
using Modulith.Benchmarks;
using Modulith.Benchmarks.Load;

return args.FirstOrDefault() switch
{
    "baseline-server" => await RunBaseline(args),
    "ingest" => await IngestionBenchmark.RunAsync(args[1..]),
    "dispatch" => await IngestionBenchmark.DispatchAsync(args[1..]),
    "leads" => await LeadLatencyBenchmark.RunAsync(args[1..]),
    "segments" => await SegmentBenchmark.RunAsync(args[1..]),
    "traffic" => await TrafficCommand.RunAsync(args[1..]),
    "load" => await RunLoad(args[1..]),
    "steady" => await RunSteady(args[1..]),
    _ => RunCodePaths(args),
};

static async Task<int> RunBaseline(string[] args)
{
    await ServerProcess.RunBaselineAsync(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}

// load URL WRITE_KEY SECONDS CONCURRENCY [single|batch] [WARMUP_SECONDS]: drive a running host (for profiling and ad-hoc runs).
static async Task<int> RunLoad(string[] args)
{
    var seconds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
    var concurrency = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
    var requests = args.Length > 4 && args[4] == "batch" ? LoadRunner.Batches(3, 4_000, 100) : LoadRunner.SingleMessages(3, 400_000);
    var warmup = args.Length > 5 ? int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 2;
    // MODULITH_BENCH_SERVER_PID: also report that process's CPU per event over the measurement.
    using var server = Environment.GetEnvironmentVariable("MODULITH_BENCH_SERVER_PID") is { Length: > 0 } pid
        ? System.Diagnostics.Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture))
        : null;
    Func<TimeSpan>? serverCpu = server is null ? null : () =>
    {
        server.Refresh();
        return server.TotalProcessorTime;
    };
    var result = await LoadRunner.RunAsync(new Uri(args[0]), args[1], requests, concurrency, TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmup), serverCpu);
    var serverPart = server is null ? "" : $", server {result.ServerMicrosecondsPerEvent:N1} µs";
    Console.WriteLine($"{result.EventsPerSecond:N0} events/s, p50 {result.Percentile(0.5):N1} ms, p99 {result.Percentile(0.99):N1} ms, failures {result.Failures}, load generator {result.ClientMicrosecondsPerEvent:N1} µs CPU per event{serverPart}, stolen {result.Stolen}");
    return 0;
}

// steady URL WRITE_KEY SECONDS RATE: the leads benchmark's open-loop background traffic against a running host (for profiling).
static async Task<int> RunSteady(string[] args)
{
    var seconds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
    var rate = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
    using var writer = LeadLatencyBenchmark.Client(new Uri(args[0]), "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(args[1] + ":")), 64);
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    await LeadLatencyBenchmark.BackgroundLoadAsync(writer, rate, 50, stop.Token);
    return 0;
}

static int RunCodePaths(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(IngestionBenchmark).Assembly).Run(args);
    return 0;
}
