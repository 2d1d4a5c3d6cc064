namespace Modulith.Segmentation.Value;

/// <summary>One purchase occasion: a customer's orders of one calendar day (UTC), summed.</summary>
internal readonly record struct PurchaseOccasion(DateOnly Day, double Amount);

/// <summary>
/// A customer's purchase history reduced to what BG/NBD and Gamma-Gamma need, in weeks: <c>X</c> repeat occasions,
/// <c>Recency</c> from the first to the last occasion, <c>Age</c> (T) from the first occasion to the end of the
/// observation, and the average amount of the repeat occasions.
/// </summary>
internal readonly record struct PurchaseSummary(int X, double Recency, double Age, double RepeatAverage, double Total)
{
    public const double DaysPerWeek = 7.0;

    /// <summary>
    /// Summarises occasions up to and including <paramref name="asOf"/>; null when the first occasion is later. Occasions
    /// must be sorted by day and hold one entry per day.
    /// </summary>
    public static PurchaseSummary? Of(IReadOnlyList<PurchaseOccasion> occasions, DateOnly asOf)
    {
        if (occasions.Count == 0 || occasions[0].Day > asOf)
        {
            return null;
        }

        var first = occasions[0].Day;
        var last = first;
        var repeats = 0;
        var repeatAmount = 0.0;
        var total = occasions[0].Amount;
        for (var i = 1; i < occasions.Count && occasions[i].Day <= asOf; i++)
        {
            repeats++;
            repeatAmount += occasions[i].Amount;
            total += occasions[i].Amount;
            last = occasions[i].Day;
        }

        return new PurchaseSummary(
            repeats,
            (last.DayNumber - first.DayNumber) / DaysPerWeek,
            (asOf.DayNumber - first.DayNumber) / DaysPerWeek,
            repeats == 0 ? 0 : repeatAmount / repeats,
            total);
    }

    /// <summary>Groups orders (day, amount) into occasions: one per day, amounts summed, sorted by day.</summary>
    public static List<PurchaseOccasion> Occasions(IEnumerable<(DateOnly Day, double Amount)> orders) =>
        orders.GroupBy(o => o.Day).Select(g => new PurchaseOccasion(g.Key, g.Sum(o => o.Amount))).OrderBy(o => o.Day).ToList();
}
