using System.Globalization;

namespace Modulith.Benchmarks.Load;

/// <summary>
/// <c>ingest</c>: end-to-end ingestion throughput of the real host, each figure next to its baseline measured in the same run:
/// single events against a bare Kestrel endpoint that only parses the JSON; batched durable events in both storage modes
/// against writing the same rows straight into the same table (PostgreSQL binary COPY, SQLite prepared inserts).
/// </summary>
public static class IngestionBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Number(args, "--seconds", 10);
        var concurrency = CommandLine.Number(args, "--concurrency", 32);
        var batchSize = CommandLine.Number(args, "--batch-size", 100);
        // This machine's speed drifts by a quarter within minutes: each round measures every server again next to its
        // baseline, and the verdict is the median of the rounds' ratios.
        var rounds = Math.Max(1, CommandLine.Number(args, "--rounds", 1));
        var postgres = CommandLine.Text(args, "--postgres") ?? Environment.GetEnvironmentVariable("MODULITH_BENCH_POSTGRES");
        var settings = new RoundSettings(
            TimeSpan.FromSeconds(seconds),
            // Under load on this machine the host's tiered JIT and PGO keep recompiling for about 30 s (docs/performance.md,
            // session 11): measure warm servers only.
            TimeSpan.FromSeconds(CommandLine.Number(args, "--warmup", 45)),
            concurrency,
            batchSize,
            postgres,
            LoadRunner.SingleMessages(1, 400_000),
            LoadRunner.Batches(2, 4_000, batchSize));

        Console.WriteLine($"# Ingestion benchmark: {Environment.ProcessorCount} cores, {rounds} round(s), {seconds} s per run after {settings.Warmup.TotalSeconds} s warm-up, {concurrency} concurrent senders; {ServerProcess.HostBuild}");
        var results = new List<RoundResult>();
        for (var round = 1; round <= rounds; round++)
        {
            Console.WriteLine();
            Console.WriteLine($"## Round {round} of {rounds}");
            results.Add(await RoundAsync(settings));
        }

        if (rounds > 1)
        {
            static string Median(IEnumerable<double> ratios)
            {
                var sorted = ratios.Order().ToList();
                var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
                return $"{median:P0} (rounds: {string.Join(", ", sorted.Select(r => r.ToString("P0", CultureInfo.InvariantCulture)))})";
            }

            Console.WriteLine();
            Console.WriteLine($"## Median of {rounds} rounds");
            Console.WriteLine("| Ratio to the baseline of the same round | Median |");
            Console.WriteLine("|---|---|");
            Console.WriteLine($"| Single events / bare Kestrel | {Median(results.Select(r => r.SingleRatio))} |");
            Console.WriteLine($"| Batched, embedded SQLite / SQLite inserts | {Median(results.Select(r => r.SqliteRatio))} |");
            if (postgres is not null)
            {
                Console.WriteLine($"| Batched, PostgreSQL / PostgreSQL COPY | {Median(results.Select(r => r.PostgresRatio!.Value))} |");
            }
        }

        return 0;
    }

    private sealed record RoundSettings(
        TimeSpan Duration,
        TimeSpan Warmup,
        int Concurrency,
        int BatchSize,
        string? Postgres,
        IReadOnlyList<(string Route, string Body, int Events)> Singles,
        IReadOnlyList<(string Route, string Body, int Events)> Batches);

    private sealed record RoundResult(double SingleRatio, double SqliteRatio, double? PostgresRatio);

    private static async Task<RoundResult> RoundAsync(RoundSettings settings)
    {
        var (duration, warmup, concurrency, batchSize, postgres, singles, batches) = settings;
        const string writeKey = "wk_bench";

        LoadRunner.Result baseline;
        await using (var server = await ServerProcess.StartBaselineAsync())
        {
            baseline = await LoadRunner.RunAsync(server.Address, writeKey, singles, concurrency, duration, warmup, () => server.ProcessorTime);
        }

        LoadRunner.Result single;
        LoadRunner.Result batchedSqlite;
        LoadRunner.Result? batchedPostgres = null;
        double? postgresRatio = null;
        using var scratch = new ScratchDirectory("modulith-bench-");
        var dataDirectory = scratch.Path;
        await using (var host = await ServerProcess.StartModulithAsync(Embedded(dataDirectory, writeKey)))
        {
            single = await LoadRunner.RunAsync(host.Address, writeKey, singles, concurrency, duration, warmup, () => host.ProcessorTime);
        }

        double dispatchRate;
        await using (var host = await ServerProcess.StartModulithAsync(Embedded(dataDirectory + "-batch", writeKey)))
        {
            batchedSqlite = await LoadRunner.RunAsync(host.Address, writeKey, batches, Math.Min(concurrency, 8), duration, warmup, () => host.ProcessorTime);
            dispatchRate = await DispatchRateAsync(Path.Combine(dataDirectory + "-batch", "modulith.db"));
        }

        var baselineRows = DurableBaselines.Rows(batches.Take(1_000).ToList());
        var (sqliteInsert, sqliteInsertRuns) = await DurableBaselines.MedianOfThreeAsync(run => DurableBaselines.SqliteInsertAsync($"{dataDirectory}-raw-{run}", baselineRows));

        Console.WriteLine("");
        Console.WriteLine("| Measurement | Modulith | Baseline (same run) | Ratio |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| Single events, 1 per request (events/s) | {single.EventsPerSecond:N0} (p50 {single.Percentile(0.5):N1} ms, p99 {single.Percentile(0.99):N1} ms) | bare Kestrel + JSON parse: {baseline.EventsPerSecond:N0} (p99 {baseline.Percentile(0.99):N1} ms) | {single.EventsPerSecond / baseline.EventsPerSecond:P0} |");
        Console.WriteLine($"| Events applied to profiles after the load (identity resolution, customer grains, state persisted), embedded SQLite (events/s) | {dispatchRate:N0} | - | - |");
        Console.WriteLine($"| Batched durable events, embedded SQLite, {batchSize}/batch (events/s) | {batchedSqlite.EventsPerSecond:N0} (p99 {batchedSqlite.Percentile(0.99):N1} ms per batch) | SQLite prepared inserts, one transaction: {sqliteInsert:N0} rows/s (median of {sqliteInsertRuns}) | {batchedSqlite.EventsPerSecond / sqliteInsert:P0} |");

        if (postgres is not null)
        {
            var database = await DurableBaselines.CreateDatabaseAsync(postgres, "modulith_bench_");
            try
            {
                await using var host = await ServerProcess.StartModulithAsync(new Dictionary<string, string>
                {
                    ["Modulith__Storage__Provider"] = "PostgreSql",
                    ["Modulith__Storage__ConnectionString"] = database,
                    ["Modulith__Bootstrap__AdminKey"] = "mk_bench",
                    ["Modulith__Bootstrap__WriteKey"] = writeKey,
                });
                batchedPostgres = await LoadRunner.RunAsync(host.Address, writeKey, batches, Math.Min(concurrency, 8), duration, warmup, () => host.ProcessorTime);
            }
            finally
            {
                // The host process has exited by now (disposed above); its database is the benchmark's to remove.
                await DurableBaselines.DropDatabaseAsync(postgres, database);
            }

            var (copy, copyRuns) = await DurableBaselines.MedianOfThreeAsync(_ => DurableBaselines.PostgresCopyAsync(postgres, baselineRows, withQueue: true));
            var (copyEventsAlone, _) = await DurableBaselines.MedianOfThreeAsync(_ => DurableBaselines.PostgresCopyAsync(postgres, baselineRows, withQueue: false));
            postgresRatio = batchedPostgres.EventsPerSecond / copy;
            Console.WriteLine($"| Batched durable events, PostgreSQL, {batchSize}/batch (events/s) | {batchedPostgres.EventsPerSecond:N0} (p99 {batchedPostgres.Percentile(0.99):N1} ms per batch) | PostgreSQL binary COPY of the same rows into the same tables (the events and their dispatch queue): {copy:N0} rows/s (median of {copyRuns}; into the events table alone: {copyEventsAlone:N0}, {batchedPostgres.EventsPerSecond / copyEventsAlone:P0}) | {postgresRatio:P0} |");
            Console.WriteLine($"| Batched durable events, embedded SQLite vs PostgreSQL COPY | {batchedSqlite.EventsPerSecond:N0} | {copy:N0} | {batchedSqlite.EventsPerSecond / copy:P0} |");
        }

        // The rates above move with this machine's speed from run to run; the CPU each event costs the server, far less.
        Console.WriteLine("");
        Console.WriteLine("| CPU per event during the measurement (µs) | Server process | Load generator | Machine's CPU stolen by the hypervisor |");
        Console.WriteLine("|---|---|---|---|");
        void Cpu(string name, LoadRunner.Result result) => Console.WriteLine($"| {name} | {result.ServerMicrosecondsPerEvent:N1} | {result.ClientMicrosecondsPerEvent:N1} | {result.Stolen} |");
        Cpu("Bare Kestrel + JSON parse, 1 per request", baseline);
        Cpu("Modulith, single events (dispatch running beside)", single);
        Cpu($"Modulith, batched, embedded SQLite, {batchSize}/batch", batchedSqlite);
        if (batchedPostgres is not null)
        {
            Cpu($"Modulith, batched, PostgreSQL, {batchSize}/batch (PostgreSQL's own CPU not counted)", batchedPostgres);
        }

        Console.WriteLine("");
        Console.WriteLine($"Failures (non-200 answers or errors) during measurement: single {single.Failures}, baseline {baseline.Failures}, batched SQLite {batchedSqlite.Failures}" +
            (batchedPostgres is null ? "." : $", batched PostgreSQL {batchedPostgres.Failures}."));
        return new RoundResult(single.EventsPerSecond / baseline.EventsPerSecond, batchedSqlite.EventsPerSecond / sqliteInsert, postgresRatio);
    }

    /// <summary>
    /// <c>dispatch</c>: fills a fresh embedded host's log with realistic batched traffic for <c>--fill</c> seconds, then measures
    /// how fast the backlog is applied (identity resolution, customer, lead and segment grains, observers) with no other load.
    /// </summary>
    public static async Task<int> DispatchAsync(string[] args)
    {
        var fill = TimeSpan.FromSeconds(CommandLine.Number(args, "--fill", 10));
        const string writeKey = "wk_bench";
        using var scratch = new ScratchDirectory("modulith-bench-");
        var dataDirectory = scratch.Path;
        await using var host = await ServerProcess.StartModulithAsync(Embedded(dataDirectory, writeKey));
        var filled = await LoadRunner.RunAsync(host.Address, writeKey, LoadRunner.Batches(2, 4_000, 100), 8, fill, TimeSpan.Zero);
        var rate = await DispatchRateAsync(Path.Combine(dataDirectory, "modulith.db"));
        Console.WriteLine($"filled {filled.Events:N0} events at {filled.EventsPerSecond:N0}/s; applied after the load: {rate:N0} events/s");
        return 0;
    }

    /// <summary>The backlog's drain rate once ingestion stops: events applied to profiles per second over 20 s.</summary>
    private static async Task<double> DispatchRateAsync(string databaseFile)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly");
        await connection.OpenAsync();
        async Task<long> PendingAsync()
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM pending_events";
            return (long)(await command.ExecuteScalarAsync())!;
        }

        var before = await PendingAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(20));
        return (before - await PendingAsync()) / clock.Elapsed.TotalSeconds;
    }

    private static Dictionary<string, string> Embedded(string dataDirectory, string writeKey) => new()
    {
        ["Modulith__DataDirectory"] = dataDirectory,
        ["Modulith__Bootstrap__AdminKey"] = "mk_bench",
        ["Modulith__Bootstrap__WriteKey"] = writeKey,
    };
}
