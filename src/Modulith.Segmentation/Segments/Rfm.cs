namespace Modulith.Segmentation.Segments;

/// <summary>
/// RFM within a workspace: the 20th, 40th, 60th and 80th percentiles (nearest rank, as PostgreSQL's percentile_disc) of
/// days since the last order, orders and revenue over the customers with an order; a customer scores 1-5 by the
/// quintile their value falls in (ties share a score), recency reversed. Cells follow <see cref="CellOf"/> (docs/segments.md).
/// </summary>
internal sealed record RfmThresholds(double[] RecencyDays, double[] Frequency, double[] Monetary, int Customers, DateTimeOffset ComputedAt)
{
    public static readonly double[] Percentiles = [0.2, 0.4, 0.6, 0.8];

    public static RfmThresholds? Compute(ReadOnlySpan<double> recencyDays, ReadOnlySpan<double> frequency, ReadOnlySpan<double> monetary, DateTimeOffset at)
    {
        if (recencyDays.Length == 0)
        {
            return null;
        }

        return new RfmThresholds(Cuts(recencyDays), Cuts(frequency), Cuts(monetary), recencyDays.Length, at);
    }

    /// <summary>The nearest-rank percentiles, found by selection (linear time) instead of a full sort.</summary>
    private static double[] Cuts(ReadOnlySpan<double> values)
    {
        var work = values.ToArray();
        var cuts = new double[Percentiles.Length];
        var from = 0;
        for (var p = 0; p < Percentiles.Length; p++)
        {
            var rank = Math.Max(0, (int)Math.Ceiling(Percentiles[p] * work.Length) - 1);
            cuts[p] = Select(work, from, work.Length - 1, rank);
            from = rank;
        }

        return cuts;
    }

    /// <summary>The k-th smallest of values[left..right] (Hoare selection); afterwards everything left of k is no larger.</summary>
    private static double Select(double[] values, int left, int right, int k)
    {
        while (left < right)
        {
            var pivot = values[left + ((right - left) / 2)];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                right = j;
            }
            else if (k >= i)
            {
                left = i;
            }
            else
            {
                return values[k];
            }
        }

        return values[k];
    }

    public int RecencyScore(double days) => 5 - Rank(RecencyDays, days);

    public int FrequencyScore(double orders) => 1 + Rank(Frequency, orders);

    public int MonetaryScore(double revenue) => 1 + Rank(Monetary, revenue);

    /// <summary>How many cut points lie below the value (0-4).</summary>
    private static int Rank(double[] cuts, double value)
    {
        var rank = 0;
        while (rank < cuts.Length && value > cuts[rank])
        {
            rank++;
        }

        return rank;
    }

    public static readonly IReadOnlyList<string> Cells =
        ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention", "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"];

    /// <summary>Rows: recency 5 down to 1; columns: FM = the rounded mean of frequency and monetary, 1 to 5.</summary>
    private static readonly string[,] Grid =
    {
        { "new", "potential_loyalist", "potential_loyalist", "champions", "champions" },
        { "promising", "potential_loyalist", "loyal", "loyal", "champions" },
        { "about_to_sleep", "need_attention", "need_attention", "loyal", "loyal" },
        { "hibernating", "about_to_sleep", "at_risk", "at_risk", "cant_lose" },
        { "lost", "hibernating", "at_risk", "cant_lose", "cant_lose" },
    };

    public static string CellOf(int recency, int frequency, int monetary) => Cells[CellIndex(recency, frequency, monetary)];

    private static readonly int[,] GridIndex = BuildIndex();

    public static int CellIndex(int recency, int frequency, int monetary) => GridIndex[5 - recency, ((frequency + monetary + 1) / 2) - 1];

    private static int[,] BuildIndex()
    {
        var index = new int[5, 5];
        var cells = Cells.ToList();
        for (var r = 0; r < 5; r++)
        {
            for (var fm = 0; fm < 5; fm++)
            {
                index[r, fm] = cells.IndexOf(Grid[r, fm]);
            }
        }

        return index;
    }
}
