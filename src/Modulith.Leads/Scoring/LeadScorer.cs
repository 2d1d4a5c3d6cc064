using System.Globalization;
using System.Text.Json;
using Modulith.Leads.Contracts;

namespace Modulith.Leads.Scoring;

/// <summary>An event as scoring sees it: its name, time and scalar properties (raw JSON values).</summary>
[GenerateSerializer, Alias("modulith.leads.ScoredEvent")]
internal sealed record ScoredEvent(
    [property: Id(0)] string MessageId,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] Dictionary<string, string>? Properties);

/// <summary>The profile facts scoring reads.</summary>
[GenerateSerializer, Alias("modulith.leads.ProfileFacts")]
internal sealed record ProfileFacts(
    [property: Id(0)] bool HasEmail,
    [property: Id(1)] bool HasPhone,
    [property: Id(2)] Dictionary<string, string> Traits,
    [property: Id(3)] Dictionary<string, double> Metrics,
    [property: Id(4)] Dictionary<string, bool> Consents)
{
    public static ProfileFacts Empty { get; } = new(false, false, [], [], []);

    public bool IsKnownContact => HasEmail || HasPhone;
}

/// <summary>Scores a lead with a model (pure): the same facts, model and time always give the same score.</summary>
internal static class LeadScorer
{
    /// <summary>Scores; when <paramref name="since"/> is set only events from then on count (a recycled lead qualifies again on new behaviour).</summary>
    public static LeadScore Score(ScoringModel model, IReadOnlyList<ScoredEvent> events, ProfileFacts profile, DateTimeOffset now, DateTimeOffset? since = null)
    {
        var contributions = new List<RuleContribution>(model.Rules!.Count);
        double fit = 0, engagement = 0;
        foreach (var rule in model.Rules)
        {
            var contribution = rule.Events is { Count: > 0 }
                ? ScoreEventRule(rule, events, now, since, rule.Part == "engagement" ? model.EngagementHalfLifeDays : null)
                : ScoreProfileRule(rule, profile);
            contributions.Add(contribution);
            if (rule.Part == "fit")
            {
                fit += contribution.Points;
            }
            else
            {
                engagement += contribution.Points;
            }
        }

        var satisfied = contributions.Where(c => c.Satisfied).Select(c => c.RuleId).ToHashSet(StringComparer.Ordinal);
        fit = Math.Round(fit, 2);
        engagement = Math.Round(engagement, 2);
        var total = Math.Round(fit + engagement, 2);
        return new LeadScore(total, fit, engagement, model.Version,
            contributions.OrderByDescending(c => c.Satisfied).ThenByDescending(c => Math.Abs(c.Points)).ToList(),
            Meets(model.Mql!, satisfied, total, fit), Meets(model.Sql!, satisfied, total, fit));
    }

    private static bool Meets(QualificationCriteria criteria, HashSet<string> satisfied, double total, double fit) =>
        (criteria.AllOf ?? []).All(satisfied.Contains) &&
        (criteria.AnyOf is not { Count: > 0 } || criteria.AnyOf.Any(satisfied.Contains)) &&
        (criteria.MinScore is null || total >= criteria.MinScore) &&
        (criteria.MinFit is null || fit >= criteria.MinFit);

    private static RuleContribution ScoreEventRule(ScoringRule rule, IReadOnlyList<ScoredEvent> events, DateTimeOffset now, DateTimeOffset? since, double? halfLifeDays)
    {
        var from = rule.WithinDays is { } days ? now.AddDays(-days) : DateTimeOffset.MinValue;
        if (since is { } start && start > from)
        {
            from = start;
        }

        var count = 0;
        double points = 0;
        foreach (var e in events)
        {
            if (e.Timestamp < from || e.Timestamp > now || !rule.Events!.Contains(e.Name, StringComparer.Ordinal) || !Matches(rule.Where, e.Properties))
            {
                continue;
            }

            count++;
            var ageDays = Math.Max(0, (now - e.Timestamp).TotalDays);
            points += halfLifeDays is { } halfLife ? rule.Points * Math.Pow(2, -ageDays / halfLife) : rule.Points;
        }

        if (rule.Cap is { } cap)
        {
            points = Math.Clamp(points, -cap, cap);
        }

        return new RuleContribution(rule.Id!, rule.Description, rule.Part!, count >= (rule.MinCount ?? 1), count, Math.Round(points, 2));
    }

    private static RuleContribution ScoreProfileRule(ScoringRule rule, ProfileFacts profile)
    {
        var holds = Holds(rule.Profile!, profile);
        var points = holds ? rule.Points : 0;
        if (rule.Cap is { } cap)
        {
            points = Math.Clamp(points, -cap, cap);
        }

        return new RuleContribution(rule.Id!, rule.Description, rule.Part!, holds, 0, points);
    }

    private static bool Matches(IReadOnlyDictionary<string, JsonElement>? where, Dictionary<string, string>? properties)
    {
        if (where is null || where.Count == 0)
        {
            return true;
        }

        foreach (var (name, expected) in where)
        {
            if (properties is null || !properties.TryGetValue(name, out var raw))
            {
                return false;
            }

            using var document = JsonDocument.Parse(raw);
            var actual = document.RootElement;
            var matched = expected.ValueKind == JsonValueKind.Array
                ? expected.EnumerateArray().Any(v => ValueEquals(v, actual))
                : ValueEquals(expected, actual);
            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares a filter value with a stored value: strings ignoring case, numbers by value.</summary>
    private static bool ValueEquals(JsonElement expected, JsonElement actual) =>
        expected.ValueKind switch
        {
            JsonValueKind.String => actual.ValueKind == JsonValueKind.String && string.Equals(expected.GetString(), actual.GetString(), StringComparison.OrdinalIgnoreCase),
            JsonValueKind.Number => TryNumber(actual, out var number) && number == expected.GetDouble(),
            JsonValueKind.True or JsonValueKind.False => actual.ValueKind == expected.ValueKind,
            _ => false,
        };

    private static bool TryNumber(JsonElement value, out double number)
    {
        number = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out number),
            JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    internal static bool Holds(ProfileCondition condition, ProfileFacts profile)
    {
        if (condition.AnyOf is { } any)
        {
            return any.Any(c => Holds(c, profile));
        }

        if (condition.AllOf is { } all)
        {
            return all.All(c => Holds(c, profile));
        }

        if (condition.Identity is { } identity)
        {
            return identity switch
            {
                "email" => profile.HasEmail,
                "phone" => profile.HasPhone,
                _ => profile.IsKnownContact,
            };
        }

        if (condition.Consent is { } consent)
        {
            return profile.Consents.TryGetValue(consent, out var granted) && granted;
        }

        if (condition.Metric is { } metric)
        {
            var value = profile.Metrics.GetValueOrDefault(metric);
            return Compare(condition.Op!, value, condition.Value!.Value.GetDouble());
        }

        if (!profile.Traits.TryGetValue(condition.Trait!, out var raw))
        {
            return condition.Op == "neq";
        }

        using var document = JsonDocument.Parse(raw);
        var actual = document.RootElement;
        if (actual.ValueKind == JsonValueKind.Null)
        {
            return condition.Op == "neq";
        }

        var expected = condition.Value;
        return condition.Op switch
        {
            "exists" => actual.ValueKind is not JsonValueKind.String || actual.GetString()!.Length > 0,
            "eq" => ValueEquals(expected!.Value, actual),
            "neq" => !ValueEquals(expected!.Value, actual),
            "in" => expected!.Value.EnumerateArray().Any(v => ValueEquals(v, actual)),
            "contains" => actual.ValueKind == JsonValueKind.String && expected!.Value.ValueKind == JsonValueKind.String &&
                          actual.GetString()!.Contains(expected.Value.GetString()!, StringComparison.OrdinalIgnoreCase),
            _ => TryNumber(actual, out var number) && Compare(condition.Op!, number, expected!.Value.GetDouble()),
        };
    }

    private static bool Compare(string op, double actual, double expected) => op switch
    {
        "eq" => actual == expected,
        "gt" => actual > expected,
        "gte" => actual >= expected,
        "lt" => actual < expected,
        _ => actual <= expected,
    };
}
