using Modulith.Segmentation.Contracts;

namespace Modulith.Segmentation.Segments.Preview;

/// <summary>One RFM run over the columns: the buyers (rows with an order), their scores and cells, and the counts per cell and lifecycle stage.</summary>
internal sealed class RfmComputation
{
    private RfmComputation(int[] buyers)
    {
        Buyers = buyers;
        Recency = new byte[buyers.Length];
        Frequency = new byte[buyers.Length];
        Monetary = new byte[buyers.Length];
        Cell = new byte[buyers.Length];
    }

    public int[] Buyers { get; }
    public byte[] Recency { get; }
    public byte[] Frequency { get; }
    public byte[] Monetary { get; }
    public byte[] Cell { get; }
    public long[] CellCounts { get; } = new long[RfmThresholds.Cells.Count];
    public Dictionary<string, long> LifecycleCounts { get; } = Lifecycle.All.ToDictionary(l => l, _ => 0L, StringComparer.Ordinal);
    public RfmThresholds? Thresholds { get; private set; }

    public static RfmComputation Run(FactsColumns columns, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        var n = columns.Count;
        var nowMs = now.ToUnixTimeMilliseconds();
        long newMs = (long)lifecycle.New.TotalMilliseconds, activeMs = (long)lifecycle.Active.TotalMilliseconds, lostMs = (long)lifecycle.Lost.TotalMilliseconds;
        var buyers = new List<int>(n);
        long prospect = 0, fresh = 0, active = 0, dormant = 0, lost = 0;
        for (var i = 0; i < n; i++)
        {
            long first = columns.FirstOrderAt[i], last = columns.LastOrderAt[i];
            if (columns.Orders[i] == 0 || first == FactsColumns.Missing || last == FactsColumns.Missing)
            {
                prospect++;
                continue;
            }

            buyers.Add(i);
            if (nowMs - first < newMs)
            {
                fresh++;
            }
            else if (nowMs - last < activeMs)
            {
                active++;
            }
            else if (nowMs - last < lostMs)
            {
                dormant++;
            }
            else
            {
                lost++;
            }
        }

        var run = new RfmComputation([.. buyers]);
        run.LifecycleCounts[Lifecycle.Prospect] = prospect;
        run.LifecycleCounts[Lifecycle.New] = fresh;
        run.LifecycleCounts[Lifecycle.Active] = active;
        run.LifecycleCounts[Lifecycle.Dormant] = dormant;
        run.LifecycleCounts[Lifecycle.Lost] = lost;
        var count = run.Buyers.Length;
        var recency = new double[count];
        var frequency = new double[count];
        var monetary = new double[count];
        for (var b = 0; b < count; b++)
        {
            var row = run.Buyers[b];
            recency[b] = (now - DateTimeOffset.FromUnixTimeMilliseconds(columns.LastOrderAt[row])).TotalDays;
            frequency[b] = columns.Orders[row];
            monetary[b] = columns.Revenue[row];
        }

        run.Thresholds = RfmThresholds.Compute(recency, frequency, monetary, now);
        if (run.Thresholds is not { } thresholds)
        {
            return run;
        }

        for (var b = 0; b < count; b++)
        {
            int r = thresholds.RecencyScore(recency[b]), f = thresholds.FrequencyScore(frequency[b]), m = thresholds.MonetaryScore(monetary[b]);
            var cell = RfmThresholds.CellIndex(r, f, m);
            run.Recency[b] = (byte)r;
            run.Frequency[b] = (byte)f;
            run.Monetary[b] = (byte)m;
            run.Cell[b] = (byte)cell;
            run.CellCounts[cell]++;
        }

        return run;
    }

    public RfmSummary Summary(DateTimeOffset now) => new(
        now,
        Buyers.Length,
        Thresholds?.RecencyDays.Select(d => Math.Round(d, 3)).ToList() ?? [],
        Thresholds?.Frequency ?? [],
        Thresholds?.Monetary ?? [],
        RfmThresholds.Cells.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => CellCounts[x.i], StringComparer.Ordinal),
        LifecycleCounts);
}
