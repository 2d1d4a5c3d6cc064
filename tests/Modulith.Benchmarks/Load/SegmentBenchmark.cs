using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.Segmentation.Segments;
using Modulith.Segmentation.Segments.Preview;
using Modulith.Segmentation.Segments.Rules;
using Npgsql;
using NpgsqlTypes;

namespace Modulith.Benchmarks.Load;

/// <summary>
/// <c>segments</c>: (1) a three-predicate segment preview and a full RFM recompute over the same synthetic customers,
/// in memory with the product's evaluator and in PostgreSQL with the equivalent SQL, in the same run, with the answers
/// compared; (2) the time from an event to the segment membership change on the real host, idle and under background load.
/// </summary>
public static class SegmentBenchmark
{
    private const string Rule = """{"all":[{"metric":"orders","op":"gte","value":3},{"metric":"daysSinceLastOrder","op":"lte","value":90},{"trait":"plan","op":"eq","value":"pro"}]}""";

    private const string PreviewSql = """
        SELECT count(*) FROM bench_segment_facts
        WHERE orders >= 3 AND last_order_at >= @now - interval '90 days' AND lower(traits->>'plan') = 'pro'
        """;

    private const string PreviewSampleSql = """
        SELECT customer_id FROM bench_segment_facts
        WHERE orders >= 3 AND last_order_at >= @now - interval '90 days' AND lower(traits->>'plan') = 'pro' LIMIT 10
        """;

    private const string RfmSql = """
        WITH b AS (
            SELECT extract(epoch FROM (@now - last_order_at)) / 86400.0 AS r, orders::float8 AS f, revenue AS m
            FROM bench_segment_facts WHERE orders > 0),
        c AS (
            SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY r) AS rc,
                   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY f) AS fc,
                   percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY m) AS mc
            FROM b),
        s AS (
            SELECT 5 - ((r > rc[1])::int + (r > rc[2])::int + (r > rc[3])::int + (r > rc[4])::int) AS rs,
                   1 + (f > fc[1])::int + (f > fc[2])::int + (f > fc[3])::int + (f > fc[4])::int AS fs,
                   1 + (m > mc[1])::int + (m > mc[2])::int + (m > mc[3])::int + (m > mc[4])::int AS ms
            FROM b, c)
        SELECT rs, (fs + ms + 1) / 2 AS fm, count(*) FROM s GROUP BY 1, 2
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var customers = CommandLine.Number(args, "--customers", 1_000_000);
        var runs = CommandLine.Number(args, "--runs", 7);
        var probes = CommandLine.Number(args, "--probes", 200);
        var rate = CommandLine.Number(args, "--rate", 1_000);
        var postgres = CommandLine.Text(args, "--postgres") ?? Environment.GetEnvironmentVariable("MODULITH_TEST_POSTGRES");
        Console.WriteLine($"# Segments: {Environment.ProcessorCount} cores, {customers:N0} customers, median of {runs} runs after warm-up runs");

        var now = DateTimeOffset.UtcNow;
        var facts = Generate(customers, now);
        var rule = ParseRule();
        var memoryPreview = Measure(runs, () => SegmentPreviewer.Evaluate(facts, rule, new PreviewSubject(), now, LifecycleWindows.Default).Count, out var memoryCount);
        long[] memoryCells = [];
        var memoryRfm = Measure(runs, () =>
        {
            var run = RfmComputation.Run(facts.Columns, now, LifecycleWindows.Default);
            memoryCells = run.CellCounts;
            return run.Buyers.Length;
        }, out _);
        Console.WriteLine($"in memory: preview {memoryPreview:F1} ms ({memoryCount:N0} members), RFM {memoryRfm:F1} ms");

        if (postgres is null)
        {
            Console.WriteLine("No PostgreSQL given (--postgres or MODULITH_TEST_POSTGRES): the SQL side is skipped.");
        }
        else
        {
            await LoadPostgresAsync(postgres, facts);
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync();
            var sqlCount = 0L;
            var sqlPreview = await MeasureAsync(runs, async () =>
            {
                await using var count = new NpgsqlCommand(PreviewSql, connection);
                count.Parameters.AddWithValue("now", now);
                sqlCount = (long)(await count.ExecuteScalarAsync())!;
                await using var sample = new NpgsqlCommand(PreviewSampleSql, connection);
                sample.Parameters.AddWithValue("now", now);
                await using var reader = await sample.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                }
            });
            var sqlCells = new long[RfmThresholds.Cells.Count];
            var sqlRfm = await MeasureAsync(runs, async () =>
            {
                Array.Clear(sqlCells);
                await using var command = new NpgsqlCommand(RfmSql, connection);
                command.Parameters.AddWithValue("now", now);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    // The query answers recency and FM = round((F + M) / 2); CellOf(r, fm, fm) is that cell.
                    sqlCells[IndexOf(RfmThresholds.CellOf(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(1)))] += reader.GetInt64(2);
                }
            });
            Console.WriteLine($"PostgreSQL: preview {sqlPreview:F1} ms ({sqlCount:N0} members), RFM {sqlRfm:F1} ms");
            Console.WriteLine();
            Console.WriteLine("| Work over " + customers.ToString("N0", CultureInfo.InvariantCulture) + " customers | Modulith in memory (ms) | PostgreSQL SQL (ms) | Speed-up | Same answer |");
            Console.WriteLine("|---|---|---|---|---|");
            Console.WriteLine($"| Preview: orders >= 3, bought within 90 days, plan = pro (count + 10 sample) | {memoryPreview:F1} | {sqlPreview:F1} | {sqlPreview / memoryPreview:F1}x | {(memoryCount == sqlCount ? "yes" : $"no ({memoryCount} vs {sqlCount})")} |");
            Console.WriteLine($"| Full RFM recompute (quintiles, scores, cells) | {memoryRfm:F1} | {sqlRfm:F1} | {sqlRfm / memoryRfm:F1}x | {(memoryCells.SequenceEqual(sqlCells) ? "yes" : $"no ({string.Join(",", memoryCells)} vs {string.Join(",", sqlCells)})")} |");
        }

        if (probes > 0)
        {
            await MembershipLatencyAsync(probes, rate);
        }

        return 0;
    }

    private static int IndexOf(string cell) => RfmThresholds.Cells.ToList().IndexOf(cell);

    private static Condition ParseRule()
    {
        using var document = JsonDocument.Parse(Rule);
        return RuleParser.Parse(document.RootElement, out _)!;
    }

    /// <summary>Deterministic shop customers: 70 % have ordered (1 + geometric orders, ~80 per order, last order within two years), 10 % on the pro plan.</summary>
    private static WorkspaceFacts Generate(int count, DateTimeOffset now)
    {
        var random = new Random(20261122);
        var facts = new WorkspaceFacts();
        var pro = new Dictionary<string, string> { ["plan"] = "\"pro\"" };
        var free = new Dictionary<string, string> { ["plan"] = "\"free\"" };
        for (var i = 0; i < count; i++)
        {
            var row = new CustomerFacts { Traits = random.NextDouble() < 0.1 ? pro : free, FirstSeen = now.AddDays(-random.Next(1, 900)) };
            if (random.NextDouble() < 0.7)
            {
                var orders = 1;
                while (random.NextDouble() < 0.45 && orders < 50)
                {
                    orders++;
                }

                row.Orders = orders;
                row.Revenue = Math.Round(orders * (20 + random.NextDouble() * 120), 2);
                row.LastOrderAt = now.AddMinutes(-random.Next(1, 720 * 24 * 60));
                row.FirstOrderAt = row.LastOrderAt.Value.AddDays(-random.Next(0, 365));
            }

            facts.Columns.Set("c" + i.ToString("D7", CultureInfo.InvariantCulture), row);
        }

        return facts;
    }

    private static async Task LoadPostgresAsync(string connectionString, WorkspaceFacts facts)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""
            DROP TABLE IF EXISTS bench_segment_facts;
            CREATE TABLE bench_segment_facts (customer_id text PRIMARY KEY, orders integer NOT NULL, revenue double precision NOT NULL,
                first_order_at timestamptz NULL, last_order_at timestamptz NULL, traits jsonb NOT NULL);
            """, connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var watch = Stopwatch.StartNew();
        await using (var copy = await connection.BeginBinaryImportAsync("COPY bench_segment_facts (customer_id, orders, revenue, first_order_at, last_order_at, traits) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < facts.Columns.Count; i++)
            {
                var (id, row) = (facts.Columns.Ids[i], facts.Columns.Rows[i]);
                await copy.StartRowAsync();
                await copy.WriteAsync(id, NpgsqlDbType.Text);
                await copy.WriteAsync(row.Orders, NpgsqlDbType.Integer);
                await copy.WriteAsync(row.Revenue, NpgsqlDbType.Double);
                await WriteTimeAsync(copy, row.FirstOrderAt);
                await WriteTimeAsync(copy, row.LastOrderAt);
                await copy.WriteAsync("{\"plan\":" + row.Traits["plan"] + "}", NpgsqlDbType.Jsonb);
            }

            await copy.CompleteAsync();
        }

        await using (var analyze = new NpgsqlCommand("VACUUM ANALYZE bench_segment_facts", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        Console.WriteLine($"PostgreSQL: {facts.Columns.Count:N0} rows copied and analysed in {watch.Elapsed.TotalSeconds:F1} s");
    }

    private static Task WriteTimeAsync(NpgsqlBinaryImporter copy, DateTimeOffset? at) =>
        at is { } value ? copy.WriteAsync(value.UtcDateTime, NpgsqlDbType.TimestampTz) : copy.WriteNullAsync();

    /// <summary>Warm-up runs first, so the measured runs use fully optimised (tier-1) code, as a long-running host does.</summary>
    private const int WarmupRuns = 30;

    private static double Measure(int runs, Func<long> work, out long result)
    {
        result = 0;
        for (var i = 0; i < WarmupRuns; i++)
        {
            result = work();
        }

        Thread.Sleep(500);
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            result = work();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Median(times);
    }

    private static async Task<double> MeasureAsync(int runs, Func<Task> work)
    {
        for (var i = 0; i < 3; i++)
        {
            await work();
        }

        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await work();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Median(times);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>Each probe is a new visitor sending one Product Viewed; the segment holds everyone who viewed a product today.</summary>
    private static async Task MembershipLatencyAsync(int probes, int rate)
    {
        Console.WriteLine();
        Console.WriteLine("| Background load (events/s) | Probes | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | Missed (10 s) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var load in new[] { 0, rate })
        {
            using var scratch = new ScratchDirectory("modulith-bench-segments-");
            var data = scratch.Path;
            await using var host = await ServerProcess.StartModulithAsync(new Dictionary<string, string>
            {
                ["Modulith__DataDirectory"] = data,
                ["Modulith__Bootstrap__AdminKey"] = "mk_bench",
                ["Modulith__Bootstrap__WriteKey"] = "wk_bench",
            });
            using var admin = LeadLatencyBenchmark.Client(host.Address, "Bearer", "mk_bench", 8);
            using var writer = LeadLatencyBenchmark.Client(host.Address, "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("wk_bench:")), 64);
            (await admin.PostAsJsonAsync("/api/segments", new { id = "viewed-today", name = "Viewed a product today", rule = new { @event = "Product Viewed", within = "P1D" } })).EnsureSuccessStatusCode();
            using var stop = new CancellationTokenSource();
            var background = load == 0 ? Task.CompletedTask : LeadLatencyBenchmark.BackgroundLoadAsync(writer, load, 50, stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(load == 0 ? 1 : 10));

            var latencies = new List<double>();
            var missed = 0;
            long after = 0;
            for (var i = 0; i < probes; i++)
            {
                var visitor = "probe-" + Guid.NewGuid().ToString("N");
                var message = new JsonObject
                {
                    ["type"] = "track", ["anonymousId"] = visitor, ["event"] = "Product Viewed", ["messageId"] = Guid.NewGuid().ToString("N"),
                    ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                };
                var watch = Stopwatch.StartNew();
                using (var sent = await writer.PostAsync("/v1/track", new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json")))
                {
                    sent.EnsureSuccessStatusCode();
                }

                double? seen = null;
                while (watch.Elapsed < TimeSpan.FromSeconds(10) && seen is null)
                {
                    var changes = await admin.GetFromJsonAsync<JsonElement>($"/api/segments/viewed-today/changes?after={after}&limit=1000");
                    foreach (var change in changes.EnumerateArray())
                    {
                        after = Math.Max(after, change.GetProperty("sequence").GetInt64());
                        seen ??= watch.Elapsed.TotalMilliseconds;
                    }

                    if (seen is null)
                    {
                        await Task.Delay(2);
                    }
                }

                if (seen is { } ms)
                {
                    latencies.Add(ms);
                }
                else
                {
                    missed++;
                }

                await Task.Delay(20);
            }

            await stop.CancelAsync();
            await background;
            latencies.Sort();
            double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            Console.WriteLine($"| {(load == 0 ? "none" : load.ToString("N0", CultureInfo.InvariantCulture))} | {probes} | {P(0.5):F1} | {P(0.9):F1} | {P(0.99):F1} | {(latencies.Count == 0 ? double.NaN : latencies[^1]):F1} | {missed} |");
        }
    }
}
