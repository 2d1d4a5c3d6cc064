namespace Modulith.Leads.Contracts;

/// <summary>Lead quality for one source and campaign: how far the leads created in the period went.</summary>
/// <param name="Channel">The first touch's channel.</param>
/// <param name="Source">The first touch's source.</param>
/// <param name="Campaign">The first touch's campaign.</param>
/// <param name="Leads">Leads (known contacts) created in the period.</param>
/// <param name="Mqls">Of those, how many reached MQL (or went straight to SQL).</param>
/// <param name="Sqls">Reached SQL.</param>
/// <param name="Accepted">Accepted by sales.</param>
/// <param name="Rejected">Rejected by sales.</param>
/// <param name="Customers">Placed a first order.</param>
/// <param name="MqlToSqlRate">Sqls / Mqls.</param>
/// <param name="SqlToAcceptedRate">Accepted / Sqls.</param>
/// <param name="AcceptedToCustomerRate">Accepted leads that became customers / Accepted.</param>
/// <param name="RejectionReasons">Rejections by reason.</param>
public sealed record LeadQualityRow(
    string? Channel, string? Source, string? Campaign, int Leads, int Mqls, int Sqls, int Accepted, int Rejected, int Customers,
    double? MqlToSqlRate, double? SqlToAcceptedRate, double? AcceptedToCustomerRate, IReadOnlyDictionary<string, int> RejectionReasons);

/// <summary>SLA attainment and speed to lead of one rep or team, over the clocks started in the period.</summary>
/// <param name="Key">The rep id or team name (<c>(none)</c> for unassigned leads).</param>
/// <param name="Clocks">SLA clocks started.</param>
/// <param name="Met">First contact by the deadline.</param>
/// <param name="Breached">Deadline passed without contact (contacted late or not at all).</param>
/// <param name="Open">Neither yet (running, paused, or closed without contact before the deadline).</param>
/// <param name="Attainment">Met / (Met + Breached).</param>
/// <param name="MedianSecondsToContact">Median wall-clock time from the clock's start to the first contact.</param>
/// <param name="P90SecondsToContact">90th percentile (nearest rank) of the same.</param>
public sealed record SlaRow(string Key, int Clocks, int Met, int Breached, int Open, double? Attainment, double? MedianSecondsToContact, double? P90SecondsToContact);

/// <summary>The SLA report.</summary>
/// <param name="From">Period start (inclusive).</param>
/// <param name="To">Period end (exclusive).</param>
/// <param name="Reps">Per rep.</param>
/// <param name="Teams">Per team.</param>
public sealed record SlaReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<SlaRow> Reps, IReadOnlyList<SlaRow> Teams);

/// <summary>MQL volume against marketing's commitment.</summary>
/// <param name="From">Period start (inclusive).</param>
/// <param name="To">Period end (exclusive).</param>
/// <param name="Mqls">Leads that became MQLs (or went straight to SQL) in the period.</param>
/// <param name="Committed">The commitment for the period: MQLs per month, prorated by days for partial months.</param>
/// <param name="Attainment">Mqls / Committed.</param>
/// <param name="AcceptedOfMqls">Of those MQLs, how many sales has accepted so far.</param>
public sealed record MqlCommitmentReport(DateTimeOffset From, DateTimeOffset To, int Mqls, double? Committed, double? Attainment, int AcceptedOfMqls);
