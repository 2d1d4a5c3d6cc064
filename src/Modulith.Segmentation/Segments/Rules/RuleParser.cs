using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Modulith.SharedKernel.Time;

namespace Modulith.Segmentation.Segments.Rules;

/// <summary>Reads a segment rule from JSON, collecting every error with its path (a 400 lists them all).</summary>
internal sealed class RuleParser
{
    public const int MaxDepth = 12;
    public const int MaxConditions = 200;
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(400);

    private static readonly string[] NodeKinds = ["all", "any", "not", "metric", "trait", "event", "consent", "segment"];
    private static readonly HashSet<string> TextOperators = ["eq", "neq", "in", "notIn", "contains", "startsWith", "endsWith", "exists", "notExists"];
    private static readonly HashSet<string> NumberOperators = ["eq", "neq", "gt", "gte", "lt", "lte", "between", "in", "notIn", "exists", "notExists"];
    private static readonly HashSet<string> CountOperators = ["eq", "neq", "gt", "gte", "lt", "lte", "between"];
    private static readonly HashSet<string> DateOperators = ["gt", "gte", "lt", "lte", "between", "exists", "notExists", "olderThan", "within"];

    private readonly List<string> _errors = [];
    private int _conditions;

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Parses the rule; null with <see cref="Errors"/> when it is invalid.</summary>
    public static Condition? Parse(JsonElement rule, out IReadOnlyList<string> errors)
    {
        var parser = new RuleParser();
        var condition = parser.Node(rule, "rule", 0);
        errors = parser._errors;
        return parser._errors.Count == 0 ? condition : null;
    }

    /// <summary>The segments a rule refers to.</summary>
    public static IEnumerable<string> References(Condition condition) => condition switch
    {
        AllOf all => all.Conditions.SelectMany(References),
        AnyOf any => any.Conditions.SelectMany(References),
        NotOf not => References(not.Condition),
        MemberOf member => [member.SegmentId],
        _ => [],
    };

    public static IEnumerable<Condition> Leaves(Condition condition) => condition switch
    {
        AllOf all => all.Conditions.SelectMany(Leaves),
        AnyOf any => any.Conditions.SelectMany(Leaves),
        NotOf not => Leaves(not.Condition),
        _ => [condition],
    };

    private Condition? Node(JsonElement node, string path, int depth)
    {
        if (++_conditions > MaxConditions)
        {
            if (_conditions == MaxConditions + 1)
            {
                _errors.Add($"{path}: a rule may have at most {MaxConditions} conditions.");
            }

            return null;
        }

        if (depth > MaxDepth)
        {
            _errors.Add($"{path}: rules may nest at most {MaxDepth} levels.");
            return null;
        }

        if (node.ValueKind != JsonValueKind.Object)
        {
            _errors.Add($"{path}: a condition must be a JSON object with one of: {string.Join(", ", NodeKinds)}.");
            return null;
        }

        var kinds = NodeKinds.Where(k => node.TryGetProperty(k, out _)).ToList();
        if (kinds.Count != 1)
        {
            _errors.Add(kinds.Count == 0
                ? $"{path}: a condition needs exactly one of: {string.Join(", ", NodeKinds)}."
                : $"{path}: a condition may have only one of {string.Join(", ", kinds)}; combine them with 'all' or 'any'.");
            return null;
        }

        var kind = kinds[0];
        var value = node.GetProperty(kind);
        switch (kind)
        {
            case "all" or "any":
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
                {
                    _errors.Add($"{path}.{kind}: must be a non-empty array of conditions.");
                    return null;
                }

                var children = value.EnumerateArray().Select((child, i) => Node(child, $"{path}.{kind}[{i}]", depth + 1)).ToList();
                return children.Any(c => c is null) ? null : kind == "all" ? new AllOf(children!) : new AnyOf(children!);
            case "not":
                return Node(value, $"{path}.not", depth + 1) is { } inner ? new NotOf(inner) : null;
            case "metric":
                return MetricNode(node, value, path);
            case "trait":
                if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                {
                    _errors.Add($"{path}.trait: must be a trait name (dots reach nested values, e.g. address.city).");
                    return null;
                }

                return Compare(node, path, TextOperators.Concat(NumberOperators).ToHashSet(), MetricKind.Text) is { } traitComparison
                    ? new TraitIs(value.GetString()!.Split('.'), traitComparison)
                    : null;
            case "consent":
                if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                {
                    _errors.Add($"{path}.consent: must be a purpose or channel (email, sms, marketing_email ...).");
                    return null;
                }

                var granted = true;
                if (node.TryGetProperty("granted", out var flag))
                {
                    if (flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        _errors.Add($"{path}.granted: must be true or false.");
                        return null;
                    }

                    granted = flag.GetBoolean();
                }

                return new ConsentIs(value.GetString()!, granted);
            case "segment":
                if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                {
                    _errors.Add($"{path}.segment: must be the id of another segment.");
                    return null;
                }

                return new MemberOf(value.GetString()!);
            default:
                return EventNode(node, value, path);
        }
    }

    private MetricIs? MetricNode(JsonElement node, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String || !Metric.ByName.TryGetValue(value.GetString()!, out var metric))
        {
            _errors.Add($"{path}.metric: unknown metric {Quote(value)}; known metrics: {string.Join(", ", Metric.All.Select(m => m.Name))}.");
            return null;
        }

        var allowed = metric.Kind switch
        {
            MetricKind.Number => NumberOperators,
            MetricKind.Date => DateOperators,
            _ => TextOperators,
        };
        return Compare(node, path, allowed, metric.Kind) is { } comparison ? new MetricIs(metric, comparison) : null;
    }

    private EventCount? EventNode(JsonElement node, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            _errors.Add($"{path}.event: must be an event name (e.g. \"Product Viewed\").");
            return null;
        }

        TimeSpan? within = null;
        if (!node.TryGetProperty("within", out var window) || window.ValueKind != JsonValueKind.String || Duration(window.GetString()) is not { } parsed || parsed <= TimeSpan.Zero || parsed > MaxWindow)
        {
            _errors.Add($"{path}.within: an event condition needs a window as an ISO 8601 duration, more than zero and at most P400D (e.g. \"P7D\").");
        }
        else
        {
            within = parsed;
        }

        var filters = new List<PropertyFilter>();
        if (node.TryGetProperty("where", out var where))
        {
            if (where.ValueKind != JsonValueKind.Array)
            {
                _errors.Add($"{path}.where: must be an array of property conditions ({{\"property\": ..., \"op\": ..., \"value\": ...}}).");
            }
            else
            {
                var i = 0;
                foreach (var filter in where.EnumerateArray())
                {
                    var filterPath = $"{path}.where[{i++}]";
                    if (filter.ValueKind != JsonValueKind.Object || !filter.TryGetProperty("property", out var property) ||
                        property.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(property.GetString()))
                    {
                        _errors.Add($"{filterPath}.property: must name an event property (dots reach nested values).");
                        continue;
                    }

                    if (Compare(filter, filterPath, TextOperators.Concat(NumberOperators).ToHashSet(), MetricKind.Text) is { } comparison)
                    {
                        filters.Add(new PropertyFilter(property.GetString()!.Split('.'), comparison));
                    }
                }
            }
        }

        var count = new Comparison("gte", Operand.Of(1));
        if (node.TryGetProperty("op", out _) || node.TryGetProperty("value", out _))
        {
            if (Compare(node, path, CountOperators, MetricKind.Number) is not { } counted)
            {
                return null;
            }

            count = counted;
        }

        if (within is null || _errors.Count > 0)
        {
            return null;
        }

        var name = value.GetString()!;
        var key = KeyOf(name, filters, within.Value);
        return new EventCount(key, name, filters, within.Value, count);
    }

    /// <summary>Counted events are identified by name, filters and window, so segments sharing a condition share its counts.</summary>
    private static string KeyOf(string name, IReadOnlyList<PropertyFilter> filters, TimeSpan within)
    {
        var text = new StringBuilder(name).Append('|').Append(within.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        foreach (var filter in filters)
        {
            text.Append('|').Append(string.Join('.', filter.Path)).Append(' ').Append(filter.Comparison.Op).Append(' ')
                .Append(filter.Comparison.Value).Append(' ').Append(filter.Comparison.Upper)
                .Append(' ').Append(string.Join(',', filter.Comparison.Values ?? []));
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private Comparison? Compare(JsonElement node, string path, IReadOnlySet<string> allowed, MetricKind kind)
    {
        if (!node.TryGetProperty("op", out var opElement) || opElement.ValueKind != JsonValueKind.String || !allowed.Contains(opElement.GetString()!))
        {
            _errors.Add($"{path}.op: must be one of {string.Join(", ", allowed)}{(opElement.ValueKind == JsonValueKind.Undefined ? string.Empty : $" (got {Quote(opElement)})")}.");
            return null;
        }

        var op = opElement.GetString()!;
        node.TryGetProperty("value", out var value);
        switch (op)
        {
            case "exists" or "notExists":
                return new Comparison(op);
            case "olderThan" or "within":
                if (value.ValueKind == JsonValueKind.String && Duration(value.GetString()) is { } duration && duration > TimeSpan.Zero)
                {
                    return new Comparison(op, Duration: duration);
                }

                _errors.Add($"{path}.value: '{op}' needs an ISO 8601 duration such as \"P90D\" or \"PT12H\".");
                return null;
            case "in" or "notIn":
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0 || value.EnumerateArray().Any(v => Scalar(v, kind) is null))
                {
                    _errors.Add($"{path}.value: '{op}' needs a non-empty array of {Describe(kind)} values.");
                    return null;
                }

                return new Comparison(op, Values: value.EnumerateArray().Select(v => Scalar(v, kind)!.Value).ToList());
            case "between":
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2 || value.EnumerateArray().Any(v => Ordered(v, kind) is null))
                {
                    _errors.Add($"{path}.value: 'between' needs [low, high] as {(kind == MetricKind.Date ? "ISO 8601 times" : "numbers")}.");
                    return null;
                }

                var bounds = value.EnumerateArray().Select(v => Ordered(v, kind)!.Value).ToList();
                return new Comparison(op, bounds[0], bounds[1]);
            case "gt" or "gte" or "lt" or "lte":
                if (Ordered(value, kind) is { } bound)
                {
                    return new Comparison(op, bound);
                }

                _errors.Add($"{path}.value: '{op}' needs {(kind == MetricKind.Date ? "an ISO 8601 time" : "a number")}.");
                return null;
            case "contains" or "startsWith" or "endsWith":
                if (value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0)
                {
                    return new Comparison(op, Operand.Of(value.GetString()!));
                }

                _errors.Add($"{path}.value: '{op}' needs a non-empty text.");
                return null;
            default:
                if (Scalar(value, kind) is { } scalar)
                {
                    return new Comparison(op, scalar);
                }

                _errors.Add($"{path}.value: '{op}' needs a {Describe(kind)} value.");
                return null;
        }
    }

    private static Operand? Scalar(JsonElement value, MetricKind kind) => kind switch
    {
        MetricKind.Number => value.ValueKind == JsonValueKind.Number ? Operand.Of(value.GetDouble()) : null,
        MetricKind.Date => Ordered(value, kind),
        _ => value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False ? Operand.FromJson(value) : null,
    };

    private static Operand? Ordered(JsonElement value, MetricKind kind)
    {
        if (kind == MetricKind.Date)
        {
            return value.ValueKind == JsonValueKind.String &&
                DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? Operand.Of(at.ToUnixTimeMilliseconds())
                : null;
        }

        return value.ValueKind == JsonValueKind.Number ? Operand.Of(value.GetDouble()) : null;
    }

    private static string Describe(MetricKind kind) => kind switch
    {
        MetricKind.Number => "number",
        MetricKind.Date => "ISO 8601 time",
        _ => "text, number or boolean",
    };

    public static TimeSpan? Duration(string? iso) => IsoDuration.Parse(iso);

    private static string Quote(JsonElement element)
    {
        var raw = element.ValueKind == JsonValueKind.Undefined ? "nothing" : element.GetRawText();
        return raw.Length > 60 ? raw[..60] + "…" : raw;
    }
}
