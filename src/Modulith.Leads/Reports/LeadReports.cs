using System.Globalization;
using Modulith.Leads.Contracts;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Reports;

/// <summary>One lead's row, as the reports read it.</summary>
internal sealed record LeadFacts(
    string LeadId, string Stage, string? OwnerId, string? Channel, string? Source, string? Campaign, DateTimeOffset CreatedAt,
    DateTimeOffset? MqlAt, DateTimeOffset? SqlAt, DateTimeOffset? AcceptedAt, DateTimeOffset? RejectedAt, string? RejectionReason,
    DateTimeOffset? CustomerAt, DateTimeOffset? SlaStartedAt, DateTimeOffset? SlaDueAt, DateTimeOffset? FirstContactAt, bool Breached);

/// <summary>The lead reports (pure over the rows, so hand computations can check them).</summary>
internal static class LeadReportMath
{
    public static IReadOnlyList<LeadQualityRow> Quality(IEnumerable<LeadFacts> leads, DateTimeOffset from, DateTimeOffset to) =>
        leads.Where(l => l.CreatedAt >= from && l.CreatedAt < to)
            .GroupBy(l => (l.Channel, l.Source, l.Campaign))
            .Select(g =>
            {
                var mqls = g.Count(l => l.MqlAt is not null || l.SqlAt is not null);
                var sqls = g.Count(l => l.SqlAt is not null);
                var accepted = g.Count(l => l.AcceptedAt is not null);
                var acceptedCustomers = g.Count(l => l.AcceptedAt is not null && l.CustomerAt is not null);
                return new LeadQualityRow(g.Key.Channel, g.Key.Source, g.Key.Campaign, g.Count(), mqls, sqls, accepted,
                    g.Count(l => l.RejectedAt is not null), g.Count(l => l.CustomerAt is not null),
                    Rate(sqls, mqls), Rate(accepted, sqls), Rate(acceptedCustomers, accepted),
                    g.Where(l => l.RejectionReason is not null).GroupBy(l => l.RejectionReason!).OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Count()));
            })
            .OrderByDescending(r => r.Leads).ThenBy(r => r.Channel, StringComparer.Ordinal).ThenBy(r => r.Source, StringComparer.Ordinal).ThenBy(r => r.Campaign, StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<SlaRow> Sla(IEnumerable<LeadFacts> leads, Func<LeadFacts, string> keyOf, DateTimeOffset from, DateTimeOffset to) =>
        leads.Where(l => l.SlaStartedAt >= from && l.SlaStartedAt < to)
            .GroupBy(keyOf)
            .Select(g =>
            {
                var met = g.Count(l => l.FirstContactAt is { } contact && !l.Breached && contact <= l.SlaDueAt);
                var breached = g.Count(l => l.Breached);
                var speeds = g.Where(l => l.FirstContactAt is not null && l.FirstContactAt >= l.SlaStartedAt)
                    .Select(l => (l.FirstContactAt!.Value - l.SlaStartedAt!.Value).TotalSeconds).Order().ToList();
                return new SlaRow(g.Key, g.Count(), met, breached, g.Count() - met - breached, Rate(met, met + breached), Median(speeds), NearestRank(speeds, 0.9));
            })
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .ToList();

    public static MqlCommitmentReport Commitment(IEnumerable<LeadFacts> leads, DateTimeOffset from, DateTimeOffset to, int? perMonth)
    {
        var mqls = leads.Where(l => (l.MqlAt ?? l.SqlAt) is { } at && at >= from && at < to).ToList();
        double? committed = perMonth is { } monthly ? Math.Round(monthly * MonthsIn(from, to), 4) : null;
        return new MqlCommitmentReport(from, to, mqls.Count, committed, committed is > 0 ? Math.Round(mqls.Count / committed.Value, 4) : null, mqls.Count(l => l.AcceptedAt is not null));
    }

    /// <summary>Calendar months (UTC) covered by the period, each partial month by its share of days.</summary>
    public static double MonthsIn(DateTimeOffset from, DateTimeOffset to)
    {
        double months = 0;
        var cursor = from.ToUniversalTime();
        var end = to.ToUniversalTime();
        while (cursor < end)
        {
            var monthStart = new DateTimeOffset(cursor.Year, cursor.Month, 1, 0, 0, 0, TimeSpan.Zero);
            var nextMonth = monthStart.AddMonths(1);
            var sliceEnd = end < nextMonth ? end : nextMonth;
            months += (sliceEnd - cursor).TotalSeconds / (nextMonth - monthStart).TotalSeconds;
            cursor = sliceEnd;
        }

        return months;
    }

    public static double? Median(IReadOnlyList<double> sorted) =>
        sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    public static double? NearestRank(IReadOnlyList<double> sorted, double percentile) =>
        sorted.Count == 0 ? null : sorted[Math.Max(0, (int)Math.Ceiling(percentile * sorted.Count) - 1)];

    /// <summary>The period's funnel (by the time each step happened) and SLA over every rep.</summary>
    public static LeadFunnelSummary Funnel(IReadOnlyList<LeadFacts> leads, DateTimeOffset from, DateTimeOffset to)
    {
        bool In(DateTimeOffset? at) => at is { } value && value >= from && value < to;
        var mqls = leads.Where(l => In(l.MqlAt ?? l.SqlAt)).ToList();
        var sqls = leads.Where(l => In(l.SqlAt)).ToList();
        var rows = Sla(leads, _ => "all", from, to);
        var sla = rows.Count > 0 ? rows[0] : null;
        return new LeadFunnelSummary(
            leads.Count(l => In(l.CreatedAt)), mqls.Count, sqls.Count, leads.Count(l => In(l.CustomerAt)),
            Rate(mqls.Count(l => l.SqlAt is not null), mqls.Count), Rate(sqls.Count(l => l.CustomerAt is not null), sqls.Count),
            sla?.Clocks ?? 0, sla?.Met ?? 0, sla?.Breached ?? 0, sla?.Attainment, sla?.MedianSecondsToContact, sla?.P90SecondsToContact);
    }

    private static double? Rate(int part, int whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);

    /// <summary>Renders rows as RFC 4180 CSV.</summary>
    public static string Csv(IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows) => Modulith.SharedKernel.Web.CsvText.Write(header, rows);
}

/// <summary>Reads the lead projection for the reports: the leads created, qualified or put on an SLA clock in the period.</summary>
internal sealed class LeadReportStore(Database database)
{
    public async Task<IReadOnlyList<LeadFacts>> ReadAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("""
            SELECT lead_id, stage, owner_id, channel, source, campaign, created_at, mql_at, sql_at, accepted_at, rejected_at, rejection_reason,
                   customer_at, sla_started_at, sla_due_at, first_contact_at, breached
            FROM leads
            WHERE workspace_id = @ws AND ((created_at >= @from AND created_at < @to) OR (mql_at >= @from AND mql_at < @to)
                OR (sql_at >= @from AND sql_at < @to) OR (sla_started_at >= @from AND sla_started_at < @to) OR (customer_at >= @from AND customer_at < @to))
            """).With("ws", workspaceId).With("from", from.ToUnixTimeMilliseconds()).With("to", to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<LeadFacts>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new LeadFacts(reader.GetString(0), reader.GetString(1), reader.NullableString(2), reader.NullableString(3), reader.NullableString(4), reader.NullableString(5),
                At(reader.GetValue(6))!.Value, At(reader.GetValue(7)), At(reader.GetValue(8)), At(reader.GetValue(9)), At(reader.GetValue(10)), reader.NullableString(11),
                At(reader.GetValue(12)), At(reader.GetValue(13)), At(reader.GetValue(14)), At(reader.GetValue(15)), Convert.ToInt32(reader.GetValue(16), CultureInfo.InvariantCulture) == 1));
        }

        return rows;
    }

    private static DateTimeOffset? At(object value) =>
        value is DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));
}

internal sealed class LeadReporting(LeadReportStore store) : ILeadReporting
{
    public async Task<LeadFunnelSummary> FunnelAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, string? channel, string? campaign, CancellationToken cancellationToken = default)
    {
        var leads = (await store.ReadAsync(workspaceId, from, to, cancellationToken))
            .Where(l => (channel is null || l.Channel == channel) && (campaign is null || l.Campaign == campaign)).ToList();
        return LeadReportMath.Funnel(leads, from, to);
    }
}
