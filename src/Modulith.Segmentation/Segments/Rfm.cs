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

    private static double[] Cuts(ReadOnlySpan<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return Percentiles.Select(p => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)]).ToArray();
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

    public static string CellOf(int recency, int frequency, int monetary)
    {
        var fm = (frequency + monetary + 1) / 2;
        return Grid[5 - recency, fm - 1];
    }
}
