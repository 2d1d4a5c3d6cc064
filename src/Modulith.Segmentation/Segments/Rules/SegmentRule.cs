using System.Globalization;
using System.Text.Json;

namespace Modulith.Segmentation.Segments.Rules;

/// <summary>A node of a segment rule (docs/segments.md describes the JSON form).</summary>
internal abstract record Condition;

internal sealed record AllOf(IReadOnlyList<Condition> Conditions) : Condition;

internal sealed record AnyOf(IReadOnlyList<Condition> Conditions) : Condition;

internal sealed record NotOf(Condition Condition) : Condition;

internal sealed record MetricIs(Metric Metric, Comparison Comparison) : Condition;

internal sealed record TraitIs(string[] Path, Comparison Comparison) : Condition;

/// <summary>A consent per purpose or channel; a consent never reported is not granted.</summary>
internal sealed record ConsentIs(string Purpose, bool Granted) : Condition;

internal sealed record MemberOf(string SegmentId) : Condition;

/// <summary>How many events of a name, with property filters, happened within the window; <see cref="Key"/> identifies the counted events.</summary>
internal sealed record EventCount(string Key, string Name, IReadOnlyList<PropertyFilter> Where, TimeSpan Within, Comparison Count) : Condition;

internal sealed record PropertyFilter(string[] Path, Comparison Comparison);

/// <summary>A value in a rule or of a customer: a number (dates as Unix milliseconds), a text or a boolean.</summary>
internal readonly record struct Operand(double? Number, string? Text, bool? Bool)
{
    public static Operand Of(double number) => new(number, null, null);

    public static Operand Of(string text) => new(null, text, null);

    public static Operand Of(bool value) => new(null, null, value);

    public static Operand? Of(DateTimeOffset? at) => at is { } value ? Of(value.ToUnixTimeMilliseconds()) : null;

    /// <summary>Reads a JSON scalar; objects, arrays and null have no operand.</summary>
    public static Operand? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => Of(element.GetDouble()),
        JsonValueKind.String => Of(element.GetString()!),
        JsonValueKind.True => Of(true),
        JsonValueKind.False => Of(false),
        _ => null,
    };

    public double? AsNumber() => Number ?? (Text is not null && double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null);

    public override string ToString() => Number?.ToString(CultureInfo.InvariantCulture) ?? Text ?? Bool?.ToString() ?? "null";
}

/// <summary>An operator with its operands, shared by metrics, traits, event properties and event counts.</summary>
internal sealed record Comparison(string Op, Operand? Value = null, Operand? Upper = null, IReadOnlyList<Operand>? Values = null, TimeSpan? Duration = null)
{
    public static readonly IReadOnlyList<string> Operators =
        ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "notIn", "contains", "startsWith", "endsWith", "exists", "notExists", "olderThan", "within"];

    /// <summary>
    /// Whether the actual value satisfies the comparison. A missing value satisfies only <c>notExists</c>; text compares
    /// case-insensitively; numbers given as text compare as numbers.
    /// </summary>
    public bool Holds(Operand? actual, DateTimeOffset now)
    {
        if (Op == "exists")
        {
            return actual is not null;
        }

        if (Op == "notExists")
        {
            return actual is null;
        }

        if (actual is not { } a)
        {
            return false;
        }

        switch (Op)
        {
            case "eq":
                return Equal(a, Value!.Value);
            case "neq":
                return !Equal(a, Value!.Value);
            case "in":
                return Values!.Any(v => Equal(a, v));
            case "notIn":
                return !Values!.Any(v => Equal(a, v));
            case "contains":
                return a.Text is { } text && text.Contains(Value!.Value.Text!, StringComparison.OrdinalIgnoreCase);
            case "startsWith":
                return a.Text is { } start && start.StartsWith(Value!.Value.Text!, StringComparison.OrdinalIgnoreCase);
            case "endsWith":
                return a.Text is { } end && end.EndsWith(Value!.Value.Text!, StringComparison.OrdinalIgnoreCase);
            case "olderThan":
                return a.Number is { } at && now.ToUnixTimeMilliseconds() - at >= Duration!.Value.TotalMilliseconds;
            case "within":
                return a.Number is { } since && now.ToUnixTimeMilliseconds() - since < Duration!.Value.TotalMilliseconds;
        }

        if (a.AsNumber() is not { } number)
        {
            return false;
        }

        return Op switch
        {
            "gt" => number > Value!.Value.Number,
            "gte" => number >= Value!.Value.Number,
            "lt" => number < Value!.Value.Number,
            "lte" => number <= Value!.Value.Number,
            "between" => number >= Value!.Value.Number && number <= Upper!.Value.Number,
            _ => false,
        };
    }

    /// <summary>Numeric thresholds a growing quantity may cross (for the time-based re-evaluation of "days since" metrics).</summary>
    public IEnumerable<double> Thresholds()
    {
        if (Value?.Number is { } low)
        {
            yield return low;
        }

        if (Upper?.Number is { } high)
        {
            yield return high;
        }

        foreach (var value in Values ?? [])
        {
            if (value.Number is { } each)
            {
                yield return each;
            }
        }
    }

    private static bool Equal(Operand actual, Operand expected)
    {
        if (expected.Bool is { } flag)
        {
            return actual.Bool == flag || (actual.Text is { } text && bool.TryParse(text, out var parsed) && parsed == flag);
        }

        if (expected.Number is { } number)
        {
            return actual.AsNumber() is { } value && Math.Abs(value - number) < 1e-9;
        }

        return actual.Text is { } actualText ? string.Equals(actualText, expected.Text, StringComparison.OrdinalIgnoreCase)
            : actual.Number is { } n && expected.AsNumber() is { } e && Math.Abs(n - e) < 1e-9;
    }
}

/// <summary>The kinds of metric values.</summary>
internal enum MetricKind
{
    Number,
    Date,
    Text,
}

/// <summary>A named customer metric a rule may test.</summary>
internal sealed record Metric(string Name, MetricKind Kind, string Description, bool DaysSince = false)
{
    public static readonly IReadOnlyList<Metric> All =
    [
        new("orders", MetricKind.Number, "orders placed"),
        new("revenue", MetricKind.Number, "order revenue"),
        new("aov", MetricKind.Number, "average order value"),
        new("refunded", MetricKind.Number, "refunded total"),
        new("firstOrderAt", MetricKind.Date, "the first order's time"),
        new("lastOrderAt", MetricKind.Date, "the latest order's time"),
        new("firstSeen", MetricKind.Date, "the first event's time"),
        new("lastSeen", MetricKind.Date, "the latest event's time"),
        new("daysSinceFirstOrder", MetricKind.Number, "days since the first order", DaysSince: true),
        new("daysSinceLastOrder", MetricKind.Number, "days since the latest order", DaysSince: true),
        new("daysSinceFirstSeen", MetricKind.Number, "days since the first event", DaysSince: true),
        new("daysSinceLastSeen", MetricKind.Number, "days since the latest event", DaysSince: true),
        new("sessions", MetricKind.Number, "sessions"),
        new("pageViews", MetricKind.Number, "page and screen views"),
        new("productViews", MetricKind.Number, "Product Viewed events"),
        new("events", MetricKind.Number, "events applied"),
        new("timeOnSiteSeconds", MetricKind.Number, "time on site in seconds"),
        new("lifecycle", MetricKind.Text, "prospect, new, active, dormant or lost"),
        new("rfmRecency", MetricKind.Number, "RFM recency score 1-5"),
        new("rfmFrequency", MetricKind.Number, "RFM frequency score 1-5"),
        new("rfmMonetary", MetricKind.Number, "RFM monetary score 1-5"),
        new("rfmCell", MetricKind.Text, "the named RFM cell (champions, loyal, ...)"),
        new("clv", MetricKind.Number, "predicted value over the next 52 weeks"),
        new("churnProbability", MetricKind.Number, "1 - P(alive) by the BG/NBD model"),
        new("leadStage", MetricKind.Text, "the lead's stage"),
        new("leadScore", MetricKind.Number, "the lead's score"),
        new("sourceConnector", MetricKind.Text, "the connector that first brought the customer (shopify, woocommerce ...)"),
        new("channel", MetricKind.Text, "the first touch's channel"),
        new("utmSource", MetricKind.Text, "the first touch's source"),
        new("campaign", MetricKind.Text, "the first touch's campaign"),
        new("currency", MetricKind.Text, "the first order's currency"),
    ];

    public static readonly IReadOnlyDictionary<string, Metric> ByName = All.ToDictionary(m => m.Name, StringComparer.Ordinal);

    /// <summary>Metrics that come from the periodic scores (RFM and customer value), not from events.</summary>
    public bool IsScore => Name is "rfmRecency" or "rfmFrequency" or "rfmMonetary" or "rfmCell" or "clv" or "churnProbability";

    public bool IsLead => Name is "leadStage" or "leadScore";
}
