using System.Globalization;

namespace Modulith.SharedKernel.Web;

/// <summary>The <c>[from, to)</c> period of report routes: ISO 8601 dates or times, the last 30 days by default, at most three years.</summary>
public static class ReportPeriod
{
    /// <summary>The period, or the message of the 400 to answer.</summary>
    public static (DateTimeOffset From, DateTimeOffset To, string? Error) Parse(string? from, string? to, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        if (!TryDate(to, now, out var end) || !TryDate(from, end.AddDays(-30), out var start))
        {
            return (default, default, "'from' and 'to' are ISO 8601 dates (2026-11-01) or date-times (2026-11-01T00:00:00Z).");
        }

        return end <= start || end - start > TimeSpan.FromDays(3 * 366)
            ? (default, default, "'from' must be before 'to', at most three years apart.")
            : (start, end, null);
    }

    private static bool TryDate(string? text, DateTimeOffset fallback, out DateTimeOffset value)
    {
        value = fallback;
        return text is null || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }
}
