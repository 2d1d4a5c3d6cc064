namespace Modulith.Attribution.Contracts;

/// <summary>The attribution models (SPEC §2, Attribution conventions).</summary>
public static class AttributionModels
{
    /// <summary>Every model, in the order reports list them.</summary>
    public static readonly IReadOnlyList<string> All = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay", "markov", "shapley"];
}

/// <summary>Credit of one channel or campaign.</summary>
/// <param name="Channel">The channel (when credited by channel).</param>
/// <param name="Campaign">The campaign (when credited by campaign; "(none)" for touches without one).</param>
/// <param name="Conversions">Credited conversions (fractional).</param>
/// <param name="Revenue">Credited revenue.</param>
public sealed record AttributionCredit(string? Channel, string? Campaign, double Conversions, double Revenue);

/// <summary>One model's credit for the conversions of a period.</summary>
/// <param name="Model">The model.</param>
/// <param name="From">Start of the period (conversions at or after).</param>
/// <param name="To">End of the period (conversions before).</param>
/// <param name="Conversion">What counted as a conversion: order, first_order, mql or sql.</param>
/// <param name="TotalConversions">Conversions in the period.</param>
/// <param name="TotalRevenue">Their revenue.</param>
/// <param name="Channels">Credit per channel (when by channel).</param>
/// <param name="Campaigns">Credit per campaign (when by campaign).</param>
public sealed record AttributionResult(string Model, DateTimeOffset From, DateTimeOffset To, string Conversion, int TotalConversions, double TotalRevenue,
    IReadOnlyList<AttributionCredit>? Channels, IReadOnlyList<AttributionCredit>? Campaigns);

/// <summary>The workspace's attribution settings.</summary>
/// <param name="Lookback">How far before a conversion touches count (ISO 8601; default P30D).</param>
/// <param name="PositionFirst">Position-based share of the first touch (default 0.4).</param>
/// <param name="PositionLast">Position-based share of the last touch (default 0.4); the middle touches share the rest.</param>
/// <param name="HalfLife">Time-decay half-life (ISO 8601; default P7D).</param>
public sealed record AttributionSettings(string? Lookback, double? PositionFirst, double? PositionLast, string? HalfLife);

/// <summary>Ad spend of one day, channel and campaign.</summary>
/// <param name="Channel">The channel (paid_search, paid_social, display, email ...).</param>
/// <param name="Campaign">The campaign (UTM campaign), if any.</param>
/// <param name="Day">The day (yyyy-MM-dd).</param>
/// <param name="Amount">The amount spent.</param>
/// <param name="Currency">ISO 4217 currency.</param>
public sealed record AdSpendEntry(string? Channel, string? Campaign, string? Day, decimal? Amount, string? Currency);

/// <summary>The result of storing ad spend.</summary>
/// <param name="Stored">Entries stored (a day, channel and campaign given again replaces the earlier amount).</param>
public sealed record AdSpendStored(int Stored);

/// <summary>The shared KPIs of a period (docs/kpis.md defines each exactly).</summary>
/// <param name="From">Start of the period.</param>
/// <param name="To">End of the period.</param>
/// <param name="Channel">The channel filter, if any.</param>
/// <param name="Campaign">The campaign filter, if any.</param>
/// <param name="Model">The model used to attribute new customers for CAC.</param>
/// <param name="Currency">The spend currency (mixed currencies are listed as found, not converted).</param>
/// <param name="Spend">Ad spend in the period.</param>
/// <param name="NewCustomers">Customers whose first order is in the period.</param>
/// <param name="Revenue">Order revenue in the period.</param>
/// <param name="Cac">Customer acquisition cost.</param>
/// <param name="Clv">Customer lifetime value of the period's new customers.</param>
/// <param name="Roas">Return on ad spend per model.</param>
/// <param name="ConversionRates">Conversion rate by channel and source.</param>
/// <param name="TimeToPurchase">First touch to first order.</param>
/// <param name="Funnel">The lead funnel and SLA from the Leads module.</param>
public sealed record KpiReport(DateTimeOffset From, DateTimeOffset To, string? Channel, string? Campaign, string Model, string? Currency,
    decimal Spend, int NewCustomers, double Revenue, CacKpi Cac, ClvKpi Clv, IReadOnlyList<RoasKpi> Roas,
    IReadOnlyList<ConversionRateKpi> ConversionRates, TimeToPurchaseKpi TimeToPurchase, Modulith.Leads.Contracts.LeadFunnelSummary Funnel);

/// <summary>CAC, blended and per channel.</summary>
/// <param name="Blended">All spend / all new customers.</param>
/// <param name="Channels">Per channel: spend / new customers attributed to it by the model.</param>
public sealed record CacKpi(double? Blended, IReadOnlyList<ChannelCac> Channels);

/// <summary>CAC of one channel (or, with a campaign filter, of one campaign).</summary>
/// <param name="Channel">The channel (null for a campaign row).</param>
/// <param name="Spend">Its spend.</param>
/// <param name="NewCustomers">New customers credited to it (fractional).</param>
/// <param name="Cac">Spend / new customers.</param>
/// <param name="Campaign">The campaign (campaign rows only).</param>
public sealed record ChannelCac(string? Channel, decimal Spend, double NewCustomers, double? Cac, string? Campaign = null);

/// <summary>CLV of the period's new customers.</summary>
/// <param name="Average">The mean CLV.</param>
/// <param name="Basis">predicted (historical revenue plus the predicted 52 weeks) or historical.</param>
/// <param name="Customers">Customers averaged.</param>
public sealed record ClvKpi(double? Average, string Basis, int Customers);

/// <summary>ROAS of one model.</summary>
/// <param name="Model">The model.</param>
/// <param name="Total">All attributed revenue of channels with spend / all spend.</param>
/// <param name="Channels">Per channel with spend.</param>
public sealed record RoasKpi(string Model, double? Total, IReadOnlyList<ChannelRoas> Channels);

/// <summary>ROAS of one channel (or, with a campaign filter, of one campaign) under one model.</summary>
/// <param name="Channel">The channel (null for a campaign row).</param>
/// <param name="Spend">Its spend.</param>
/// <param name="Revenue">Revenue the model credits to it.</param>
/// <param name="Roas">Revenue / spend.</param>
/// <param name="Campaign">The campaign (campaign rows only).</param>
public sealed record ChannelRoas(string? Channel, decimal Spend, double Revenue, double? Roas, string? Campaign = null);

/// <summary>Conversion rate of one channel and source.</summary>
/// <param name="Channel">The touch channel.</param>
/// <param name="Source">The touch source (utm_source or the referrer's host).</param>
/// <param name="Visitors">Customers with a touch from it in the period.</param>
/// <param name="Converted">Of those, customers who ordered in the period at or after that touch.</param>
/// <param name="Rate">Converted / visitors.</param>
public sealed record ConversionRateKpi(string Channel, string? Source, int Visitors, int Converted, double? Rate);

/// <summary>Time from the first touch to the first order, for customers whose first order is in the period.</summary>
/// <param name="Customers">Customers measured (with a recorded touch before the first order).</param>
/// <param name="WithoutTouch">New customers with no touch recorded before their first order.</param>
/// <param name="MedianDays">The median in days.</param>
/// <param name="P90Days">The 90th percentile (nearest rank) in days.</param>
/// <param name="Distribution">Customers per bucket: under 1 day, 1-7, 7-30, 30-90, 90 days or more.</param>
public sealed record TimeToPurchaseKpi(int Customers, int WithoutTouch, double? MedianDays, double? P90Days, IReadOnlyDictionary<string, int> Distribution);
