using System.Text.Json;
using System.Text.RegularExpressions;
using Modulith.Leads.Contracts;

namespace Modulith.Leads.Scoring;

/// <summary>Checks a scoring model before it is stored (pure): every problem is named with its place in the model.</summary>
internal static partial class ScoringModelValidator
{
    public const int MaxRules = 200;

    internal static readonly HashSet<string> Metrics = ["timeOnSiteSeconds", "sessions", "pageViews", "productViews", "events", "orders", "revenue"];
    private static readonly HashSet<string> Identities = ["email", "phone", "contact"];
    private static readonly HashSet<string> TraitOps = ["exists", "eq", "neq", "in", "contains", "gt", "gte", "lt", "lte"];
    private static readonly HashSet<string> MetricOps = ["eq", "gt", "gte", "lt", "lte"];

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    public static string? Validate(ScoringModel? model)
    {
        if (model is null)
        {
            return "A scoring model is required.";
        }

        if (model.Rules is null || model.Rules.Count == 0)
        {
            return "'rules' must list at least one rule.";
        }

        if (model.Rules.Count > MaxRules)
        {
            return $"At most {MaxRules} rules.";
        }

        if (model.EngagementHalfLifeDays is { } halfLife && (!double.IsFinite(halfLife) || halfLife <= 0 || halfLife > 3650))
        {
            return "'engagementHalfLifeDays' must be between 0 (exclusive) and 3650, or null for no decay.";
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < model.Rules.Count; i++)
        {
            var error = ValidateRule(model.Rules[i], $"rules[{i}]");
            if (error is not null)
            {
                return error;
            }

            if (!ids.Add(model.Rules[i].Id!))
            {
                return $"rules[{i}]: the id '{model.Rules[i].Id}' is used twice.";
            }
        }

        return ValidateCriteria(model.Mql, "mql", ids) ?? ValidateCriteria(model.Sql, "sql", ids);
    }

    private static string? ValidateRule(ScoringRule? rule, string at)
    {
        if (rule is null)
        {
            return $"{at}: a rule is required.";
        }

        if (rule.Id is null || !IdPattern().IsMatch(rule.Id))
        {
            return $"{at}: 'id' is required (1-64 letters, digits, _ or -).";
        }

        at = $"{at} ('{rule.Id}')";
        if (rule.Part is not ("fit" or "engagement"))
        {
            return $"{at}: 'part' must be fit or engagement.";
        }

        if (!double.IsFinite(rule.Points) || Math.Abs(rule.Points) > 10_000)
        {
            return $"{at}: 'points' must be a number between -10000 and 10000.";
        }

        if (rule.Cap is { } cap && (!double.IsFinite(cap) || cap < 0 || cap > 100_000))
        {
            return $"{at}: 'cap' must be between 0 and 100000.";
        }

        var isEvent = rule.Events is { Count: > 0 };
        if (isEvent == (rule.Profile is not null))
        {
            return $"{at}: a rule has either 'events' (an event rule) or 'profile' (a profile rule), not both and not neither.";
        }

        if (isEvent)
        {
            if (rule.Events!.Any(e => string.IsNullOrWhiteSpace(e) || e.Length > 200))
            {
                return $"{at}: event names must be 1-200 characters.";
            }

            if (rule.WithinDays is { } days && days is < 1 or > 3650)
            {
                return $"{at}: 'withinDays' must be between 1 and 3650.";
            }

            if (rule.MinCount is { } count && count is < 1 or > 10_000)
            {
                return $"{at}: 'minCount' must be between 1 and 10000.";
            }

            foreach (var (property, value) in rule.Where ?? new Dictionary<string, JsonElement>())
            {
                var scalar = value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;
                var list = value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False);
                if (!scalar && !list)
                {
                    return $"{at}: 'where.{property}' must be a string, number, boolean or an array of them.";
                }
            }

            return null;
        }

        if (rule.WithinDays is not null || rule.MinCount is not null || rule.Where is not null)
        {
            return $"{at}: 'withinDays', 'minCount' and 'where' belong to event rules.";
        }

        return ValidateCondition(rule.Profile!, $"{at}.profile", 0);
    }

    internal static string? ValidateCondition(ProfileCondition condition, string at, int depth = 0)
    {
        if (depth > 5)
        {
            return $"{at}: conditions nest at most 5 deep.";
        }

        var kinds = new object?[] { condition.Trait, condition.Metric, condition.Identity, condition.Consent, condition.AnyOf, condition.AllOf }.Count(k => k is not null);
        if (kinds != 1)
        {
            return $"{at}: a condition has exactly one of trait, metric, identity, consent, anyOf, allOf.";
        }

        if ((condition.AnyOf ?? condition.AllOf) is { } children)
        {
            if (children.Count == 0)
            {
                return $"{at}: anyOf and allOf need at least one condition.";
            }

            for (var i = 0; i < children.Count; i++)
            {
                if (ValidateCondition(children[i], $"{at}.{(condition.AnyOf is not null ? "anyOf" : "allOf")}[{i}]", depth + 1) is { } error)
                {
                    return error;
                }
            }

            return null;
        }

        if (condition.Identity is { } identity)
        {
            return Identities.Contains(identity) ? null : $"{at}: 'identity' must be email, phone or contact.";
        }

        if (condition.Consent is { } consent)
        {
            return string.IsNullOrWhiteSpace(consent) ? $"{at}: 'consent' names a purpose." : null;
        }

        if (condition.Metric is { } metric)
        {
            if (!Metrics.Contains(metric))
            {
                return $"{at}: 'metric' must be one of {string.Join(", ", Metrics)}.";
            }

            if (condition.Op is null || !MetricOps.Contains(condition.Op))
            {
                return $"{at}: a metric 'op' is one of {string.Join(", ", MetricOps)}.";
            }

            return condition.Value is { ValueKind: JsonValueKind.Number } ? null : $"{at}: a metric is compared with a number 'value'.";
        }

        if (string.IsNullOrWhiteSpace(condition.Trait) || condition.Trait.Length > 200)
        {
            return $"{at}: 'trait' names a trait.";
        }

        if (condition.Op is null || !TraitOps.Contains(condition.Op))
        {
            return $"{at}: a trait 'op' is one of {string.Join(", ", TraitOps)}.";
        }

        return condition.Op switch
        {
            "exists" => null,
            "in" when condition.Value is not { ValueKind: JsonValueKind.Array } => $"{at}: 'in' compares with an array 'value'.",
            "gt" or "gte" or "lt" or "lte" when condition.Value is not { ValueKind: JsonValueKind.Number } => $"{at}: '{condition.Op}' compares with a number 'value'.",
            _ when condition.Value is null => $"{at}: '{condition.Op}' needs a 'value'.",
            _ => null,
        };
    }

    private static string? ValidateCriteria(QualificationCriteria? criteria, string name, HashSet<string> ids)
    {
        if (criteria is null)
        {
            return $"'{name}' criteria are required.";
        }

        if (criteria.AllOf is not { Count: > 0 } && criteria.AnyOf is not { Count: > 0 } && criteria.MinScore is null && criteria.MinFit is null)
        {
            return $"'{name}' needs at least one of allOf, anyOf, minScore, minFit.";
        }

        var unknown = (criteria.AllOf ?? []).Concat(criteria.AnyOf ?? []).Where(id => !ids.Contains(id)).ToList();
        if (unknown.Count > 0)
        {
            return $"'{name}' refers to unknown rule(s): {string.Join(", ", unknown)}.";
        }

        if (criteria.MinScore is { } minScore && !double.IsFinite(minScore) || criteria.MinFit is { } minFit && !double.IsFinite(minFit))
        {
            return $"'{name}' thresholds must be numbers.";
        }

        return null;
    }
}
