using System.Text.Json;
using Modulith.Customers.Contracts;

namespace Modulith.Segmentation.Segments;

/// <summary>
/// What segment rules read of one customer: the profile's metrics, traits and consents, the first touch, the source
/// connector, the lead's stage and score, and the periodic scores (RFM, CLV). Kept in the customer's segment grain and
/// projected to <c>segment_facts</c> for previews. Stored as JSON by property name: add properties, never rename them.
/// </summary>
[GenerateSerializer, Alias("modulith.segmentation.CustomerFacts")]
internal sealed class CustomerFacts
{
    [Id(0)] public int Orders { get; set; }
    [Id(1)] public double Revenue { get; set; }
    [Id(2)] public double Refunded { get; set; }
    [Id(3)] public string? Currency { get; set; }
    [Id(4)] public DateTimeOffset? FirstOrderAt { get; set; }
    [Id(5)] public DateTimeOffset? LastOrderAt { get; set; }
    [Id(6)] public DateTimeOffset? FirstSeen { get; set; }
    [Id(7)] public DateTimeOffset? LastSeen { get; set; }
    [Id(8)] public long Sessions { get; set; }
    [Id(9)] public long PageViews { get; set; }
    [Id(10)] public long ProductViews { get; set; }
    [Id(11)] public long Events { get; set; }
    [Id(12)] public double TimeOnSiteSeconds { get; set; }
    [Id(13)] public IReadOnlyDictionary<string, string> Traits { get; set; } = EmptyTraits;
    [Id(14)] public IReadOnlyDictionary<string, bool> Consents { get; set; } = EmptyConsents;
    [Id(15)] public string? Channel { get; set; }
    [Id(16)] public string? UtmSource { get; set; }
    [Id(17)] public string? Campaign { get; set; }
    [Id(18)] public string? SourceConnector { get; set; }
    [Id(19)] public string? LeadStage { get; set; }
    [Id(20)] public double? LeadScore { get; set; }
    [Id(21)] public CustomerScores? Scores { get; set; }

    private static readonly IReadOnlyDictionary<string, string> EmptyTraits = new Dictionary<string, string>();
    private static readonly IReadOnlyDictionary<string, bool> EmptyConsents = new Dictionary<string, bool>();
    private const int MaxTraits = 200;
    private const int MaxTraitLength = 2_000;

    /// <summary>Copies what rules read from the snapshot the customer's grain passes to observers.</summary>
    public void Update(CustomerSnapshot snapshot)
    {
        Counts(snapshot.Orders, snapshot.Metrics, snapshot.FirstSeen, snapshot.LastSeen);
        Traits = snapshot.Traits.Where(t => t.Value.Length <= MaxTraitLength).Take(MaxTraits).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        Consents = new Dictionary<string, bool>(snapshot.Consents, StringComparer.Ordinal);
        FirstTouch(snapshot.FirstTouch);
    }

    /// <summary>Copies what rules read from the single customer view (when the grain starts without an event).</summary>
    public void Update(CustomerProfile profile)
    {
        Counts(profile.Orders, profile.Metrics, profile.FirstSeen, profile.LastSeen);
        Traits = profile.Traits.Select(t => (t.Key, Raw: t.Value.GetRawText())).Where(t => t.Raw.Length <= MaxTraitLength).Take(MaxTraits)
            .ToDictionary(t => t.Key, t => t.Raw, StringComparer.Ordinal);
        Consents = profile.Consents.ToDictionary(c => c.Key, c => c.Value.Granted, StringComparer.Ordinal);
        FirstTouch(profile.Touchpoints.Count > 0 ? profile.Touchpoints[0] : null);
    }

    private void Counts(CustomerOrders orders, CustomerMetrics metrics, DateTimeOffset? firstSeen, DateTimeOffset? lastSeen)
    {
        Orders = orders.Count;
        Revenue = (double)orders.Revenue;
        Refunded = (double)orders.Refunded;
        Currency = orders.Currency;
        FirstOrderAt = orders.FirstOrderAt;
        LastOrderAt = orders.LastOrderAt;
        FirstSeen = firstSeen;
        LastSeen = lastSeen;
        Sessions = metrics.Sessions;
        PageViews = metrics.PageViews;
        ProductViews = metrics.ProductViews;
        Events = metrics.Events;
        TimeOnSiteSeconds = metrics.TimeOnSiteSeconds;
    }

    private void FirstTouch(CustomerTouchpoint? first)
    {
        Channel = first?.Channel;
        UtmSource = first?.Source;
        Campaign = first?.Campaign;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CustomerFacts FromJson(string json) => JsonSerializer.Deserialize<CustomerFacts>(json, Json) ?? new CustomerFacts();
}

/// <summary>A customer's periodic scores: RFM (1-5 within the workspace, and the named cell) and predicted value.</summary>
/// <param name="Recency">5 = bought most recently.</param>
/// <param name="Frequency">5 = most orders.</param>
/// <param name="Monetary">5 = most revenue.</param>
/// <param name="Cell">champions, loyal, ...</param>
/// <param name="Clv">Predicted value over 52 weeks.</param>
/// <param name="ChurnProbability">1 - P(alive).</param>
[GenerateSerializer, Immutable, Alias("modulith.segmentation.CustomerScores")]
internal sealed record CustomerScores(
    [property: Id(0)] int? Recency,
    [property: Id(1)] int? Frequency,
    [property: Id(2)] int? Monetary,
    [property: Id(3)] string? Cell,
    [property: Id(4)] double? Clv,
    [property: Id(5)] double? ChurnProbability);

/// <summary>The lifecycle windows of a workspace.</summary>
internal sealed record LifecycleWindows(TimeSpan New, TimeSpan Active, TimeSpan Lost)
{
    public static readonly LifecycleWindows Default = new(TimeSpan.FromDays(30), TimeSpan.FromDays(90), TimeSpan.FromDays(365));
}

/// <summary>The lifecycle stage: prospect (no order), new, active, dormant, lost.</summary>
internal static class Lifecycle
{
    public const string Prospect = "prospect";
    public const string New = "new";
    public const string Active = "active";
    public const string Dormant = "dormant";
    public const string Lost = "lost";

    public static readonly IReadOnlyList<string> All = [Prospect, New, Active, Dormant, Lost];

    public static string Of(CustomerFacts facts, DateTimeOffset now, LifecycleWindows windows)
    {
        if (facts.Orders == 0 || facts.FirstOrderAt is not { } first || facts.LastOrderAt is not { } last)
        {
            return Prospect;
        }

        if (now - first < windows.New)
        {
            return New;
        }

        if (now - last < windows.Active)
        {
            return Active;
        }

        return now - last < windows.Lost ? Dormant : Lost;
    }

    /// <summary>The candidate moments the stage may change without a new order (the caller keeps the first one to come).</summary>
    public static DateTimeOffset? NextChange(CustomerFacts facts, DateTimeOffset now, LifecycleWindows windows)
    {
        if (facts.FirstOrderAt is not { } first || facts.LastOrderAt is not { } last)
        {
            return null;
        }

        var candidates = new[] { first + windows.New, last + windows.Active, last + windows.Lost };
        return candidates.Where(c => c > now).DefaultIfEmpty(DateTimeOffset.MaxValue).Min() is var next && next == DateTimeOffset.MaxValue ? null : next;
    }
}
