using System.Text.Json;

namespace Modulith.Segmentation.Segments.Rules;

/// <summary>What a rule is evaluated against: one customer's facts, counted events and other memberships.</summary>
internal interface ISegmentSubject
{
    CustomerFacts Facts { get; }

    bool IsMember(string segmentId);

    /// <summary>The events counted by the condition within its window ending at <paramref name="now"/>.</summary>
    int Count(EventCount condition, DateTimeOffset now);

    /// <summary>When the earliest counted event leaves the window (null when none is in it).</summary>
    DateTimeOffset? FirstLeavesWindow(EventCount condition, DateTimeOffset now);
}

/// <summary>Evaluates rules: the same code decides membership in the customer's grain and in previews.</summary>
internal static class RuleEvaluator
{
    public static bool Holds(Condition condition, ISegmentSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        switch (condition)
        {
            case AllOf all:
                foreach (var each in all.Conditions)
                {
                    if (!Holds(each, subject, now, lifecycle))
                    {
                        return false;
                    }
                }

                return true;
            case AnyOf any:
                foreach (var each in any.Conditions)
                {
                    if (Holds(each, subject, now, lifecycle))
                    {
                        return true;
                    }
                }

                return false;
            case NotOf not:
                return !Holds(not.Condition, subject, now, lifecycle);
            case MetricIs metric:
                return metric.Comparison.Holds(Value(metric.Metric, subject.Facts, now, lifecycle), now);
            case TraitIs trait:
                return trait.Comparison.Holds(Trait(subject.Facts.Traits, trait.Path), now);
            case ConsentIs consent:
                var granted = subject.Facts.Consents.TryGetValue(consent.Purpose, out var value) && value;
                return granted == consent.Granted;
            case MemberOf member:
                return subject.IsMember(member.SegmentId);
            case EventCount events:
                return events.Count.Holds(Operand.Of(subject.Count(events, now)), now);
            default:
                return false;
        }
    }

    /// <summary>
    /// The next moment the rule's answer may change with no new event: a "days since" threshold or a duration passing,
    /// a lifecycle window ending, a counted event leaving its window. Null when only events can change it.
    /// </summary>
    public static DateTimeOffset? NextChange(Condition condition, ISegmentSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        DateTimeOffset? next = null;
        foreach (var leaf in RuleParser.Leaves(condition))
        {
            foreach (var at in Changes(leaf, subject, now, lifecycle))
            {
                if (at > now && (next is null || at < next))
                {
                    next = at;
                }
            }
        }

        return next;
    }

    private static IEnumerable<DateTimeOffset> Changes(Condition leaf, ISegmentSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        var facts = subject.Facts;
        switch (leaf)
        {
            case MetricIs { Metric.DaysSince: true } metric when Base(metric.Metric.Name, facts) is { } since:
                foreach (var days in metric.Comparison.Thresholds())
                {
                    yield return since.AddDays(days);
                    yield return since.AddDays(days).AddMilliseconds(1);
                }

                break;
            case MetricIs { Metric.Kind: MetricKind.Date, Comparison.Duration: { } duration } metric when Base(metric.Metric.Name, facts) is { } at:
                yield return at + duration;
                break;
            case MetricIs { Metric.Name: "lifecycle" }:
                if (Lifecycle.NextChange(facts, now, lifecycle) is { } change)
                {
                    yield return change;
                }

                break;
            case EventCount events when subject.FirstLeavesWindow(events, now) is { } leaves:
                yield return leaves;
                break;
        }
    }

    private static DateTimeOffset? Base(string metric, CustomerFacts facts) => metric switch
    {
        "daysSinceFirstOrder" or "firstOrderAt" => facts.FirstOrderAt,
        "daysSinceLastOrder" or "lastOrderAt" => facts.LastOrderAt,
        "daysSinceFirstSeen" or "firstSeen" => facts.FirstSeen,
        "daysSinceLastSeen" or "lastSeen" => facts.LastSeen,
        _ => null,
    };

    public static Operand? Value(Metric metric, CustomerFacts f, DateTimeOffset now, LifecycleWindows lifecycle) => metric.Name switch
    {
        "orders" => Operand.Of(f.Orders),
        "revenue" => Operand.Of(f.Revenue),
        "aov" => f.Orders == 0 ? null : Operand.Of(Math.Round(f.Revenue / f.Orders, 2)),
        "refunded" => Operand.Of(f.Refunded),
        "firstOrderAt" => Operand.Of(f.FirstOrderAt),
        "lastOrderAt" => Operand.Of(f.LastOrderAt),
        "firstSeen" => Operand.Of(f.FirstSeen),
        "lastSeen" => Operand.Of(f.LastSeen),
        "daysSinceFirstOrder" => DaysSince(f.FirstOrderAt, now),
        "daysSinceLastOrder" => DaysSince(f.LastOrderAt, now),
        "daysSinceFirstSeen" => DaysSince(f.FirstSeen, now),
        "daysSinceLastSeen" => DaysSince(f.LastSeen, now),
        "sessions" => Operand.Of(f.Sessions),
        "pageViews" => Operand.Of(f.PageViews),
        "productViews" => Operand.Of(f.ProductViews),
        "events" => Operand.Of(f.Events),
        "timeOnSiteSeconds" => Operand.Of(f.TimeOnSiteSeconds),
        "lifecycle" => Operand.Of(Lifecycle.Of(f, now, lifecycle)),
        "rfmRecency" => f.Scores?.Recency is { } r ? Operand.Of(r) : null,
        "rfmFrequency" => f.Scores?.Frequency is { } fr ? Operand.Of(fr) : null,
        "rfmMonetary" => f.Scores?.Monetary is { } m ? Operand.Of(m) : null,
        "rfmCell" => f.Scores?.Cell is { } cell ? Operand.Of(cell) : null,
        "clv" => f.Scores?.Clv is { } clv ? Operand.Of(clv) : null,
        "churnProbability" => f.Scores?.ChurnProbability is { } churn ? Operand.Of(churn) : null,
        "leadStage" => f.LeadStage is { } stage ? Operand.Of(stage) : null,
        "leadScore" => f.LeadScore is { } score ? Operand.Of(score) : null,
        "sourceConnector" => f.SourceConnector is { } connector ? Operand.Of(connector) : null,
        "channel" => f.Channel is { } channel ? Operand.Of(channel) : null,
        "utmSource" => f.UtmSource is { } source ? Operand.Of(source) : null,
        "campaign" => f.Campaign is { } campaign ? Operand.Of(campaign) : null,
        "currency" => f.Currency is { } currency ? Operand.Of(currency) : null,
        _ => null,
    };

    private static Operand? DaysSince(DateTimeOffset? at, DateTimeOffset now) => at is { } value ? Operand.Of((now - value).TotalDays) : null;

    /// <summary>A value by path in raw-JSON traits or properties; objects and arrays have no value.</summary>
    public static Operand? Trait(IReadOnlyDictionary<string, string> values, string[] path)
    {
        if (!values.TryGetValue(path[0], out var raw))
        {
            return null;
        }

        if (path.Length == 1 && raw.Length > 0 && raw[0] != '{' && raw[0] != '[')
        {
            return Scalar(raw);
        }

        try
        {
            using var document = JsonDocument.Parse(raw);
            return Walk(document.RootElement, path.AsSpan(1));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static Operand? Walk(JsonElement element, ReadOnlySpan<string> path)
    {
        foreach (var part in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element))
            {
                return null;
            }
        }

        return Operand.FromJson(element);
    }

    private static Operand? Scalar(string raw)
    {
        switch (raw[0])
        {
            case '"':
                return Operand.Of(JsonSerializer.Deserialize<string>(raw)!);
            case 't' or 'f':
                return Operand.Of(raw == "true");
            case 'n':
                return null;
            default:
                return double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) ? Operand.Of(number) : null;
        }
    }
}
