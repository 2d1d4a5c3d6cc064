using System.Numerics;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.Segmentation.Segments.Preview;

/// <summary>
/// A workspace's facts as columns (one array per metric, dictionary-encoded trait values), updated row by row as facts
/// change, so a preview scans arrays instead of objects.
/// </summary>
internal sealed class FactsColumns
{
    public const long Missing = long.MinValue;

    private readonly Dictionary<string, int> _rowOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TraitColumn> _traits = new(StringComparer.Ordinal);
    private int _capacity = 1024;

    public int Count { get; private set; }

    public string[] Ids { get; private set; } = new string[1024];
    public CustomerFacts[] Rows { get; private set; } = new CustomerFacts[1024];
    public double[] Orders { get; private set; } = new double[1024];
    public double[] Revenue { get; private set; } = new double[1024];
    public double[] Refunded { get; private set; } = new double[1024];
    public double[] Sessions { get; private set; } = new double[1024];
    public double[] PageViews { get; private set; } = new double[1024];
    public double[] ProductViews { get; private set; } = new double[1024];
    public double[] Events { get; private set; } = new double[1024];
    public double[] TimeOnSite { get; private set; } = new double[1024];
    public long[] FirstOrderAt { get; private set; } = new long[1024];
    public long[] LastOrderAt { get; private set; } = new long[1024];
    public long[] FirstSeen { get; private set; } = new long[1024];
    public long[] LastSeen { get; private set; } = new long[1024];

    public void Set(string customerId, CustomerFacts facts)
    {
        if (!_rowOf.TryGetValue(customerId, out var row))
        {
            row = Count++;
            if (row == _capacity)
            {
                Grow();
            }

            _rowOf[customerId] = row;
            Ids[row] = customerId;
        }

        Rows[row] = facts;
        Orders[row] = facts.Orders;
        Revenue[row] = facts.Revenue;
        Refunded[row] = facts.Refunded;
        Sessions[row] = facts.Sessions;
        PageViews[row] = facts.PageViews;
        ProductViews[row] = facts.ProductViews;
        Events[row] = facts.Events;
        TimeOnSite[row] = facts.TimeOnSiteSeconds;
        FirstOrderAt[row] = Ms(facts.FirstOrderAt);
        LastOrderAt[row] = Ms(facts.LastOrderAt);
        FirstSeen[row] = Ms(facts.FirstSeen);
        LastSeen[row] = Ms(facts.LastSeen);
        foreach (var column in _traits.Values)
        {
            column.Set(row, RuleEvaluator.Trait(facts.Traits, column.Path));
        }
    }

    /// <summary>The dictionary-encoded values of a trait path (built on first use, then kept up to date).</summary>
    public TraitColumn Trait(string[] path)
    {
        var key = string.Join('.', path);
        if (!_traits.TryGetValue(key, out var column))
        {
            column = new TraitColumn(path, _capacity);
            for (var row = 0; row < Count; row++)
            {
                column.Set(row, RuleEvaluator.Trait(Rows[row].Traits, path));
            }

            _traits[key] = column;
        }

        return column;
    }

    private static long Ms(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds() ?? Missing;

    private void Grow()
    {
        _capacity *= 2;
        Ids = Resize(Ids);
        Rows = Resize(Rows);
        Orders = Resize(Orders);
        Revenue = Resize(Revenue);
        Refunded = Resize(Refunded);
        Sessions = Resize(Sessions);
        PageViews = Resize(PageViews);
        ProductViews = Resize(ProductViews);
        Events = Resize(Events);
        TimeOnSite = Resize(TimeOnSite);
        FirstOrderAt = Resize(FirstOrderAt);
        LastOrderAt = Resize(LastOrderAt);
        FirstSeen = Resize(FirstSeen);
        LastSeen = Resize(LastSeen);
        foreach (var column in _traits.Values)
        {
            column.Grow(_capacity);
        }
    }

    private T[] Resize<T>(T[] array)
    {
        var bigger = new T[_capacity];
        Array.Copy(array, bigger, array.Length);
        return bigger;
    }
}

/// <summary>A trait's values per row as codes into a small dictionary of distinct values (code 0: no value).</summary>
internal sealed class TraitColumn(string[] path, int capacity)
{
    private readonly Dictionary<Operand, int> _codeOf = [];

    public string[] Path { get; } = path;

    public int[] Codes { get; private set; } = new int[capacity];

    /// <summary>Distinct values; index 0 stands for "no value".</summary>
    public List<Operand?> Values { get; } = [null];

    public void Set(int row, Operand? value)
    {
        if (value is not { } present)
        {
            Codes[row] = 0;
            return;
        }

        if (!_codeOf.TryGetValue(present, out var code))
        {
            code = Values.Count;
            Values.Add(present);
            _codeOf[present] = code;
        }

        Codes[row] = code;
    }

    public void Grow(int capacity)
    {
        var bigger = new int[capacity];
        Array.Copy(Codes, bigger, Codes.Length);
        Codes = bigger;
    }
}

/// <summary>
/// Evaluates a rule over <see cref="FactsColumns"/> into a bit set: metric and trait conditions scan arrays; the other
/// conditions (events, segments, consents, text metrics) ask <see cref="RuleEvaluator"/> row by row, so every condition
/// means exactly what it means in the customer's grain.
/// </summary>
internal static class ColumnEvaluator
{
    public static ulong[] Select(Condition condition, FactsColumns columns, PreviewSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        var words = (columns.Count + 63) / 64;
        switch (condition)
        {
            case AllOf all:
            {
                var result = Select(all.Conditions[0], columns, subject, now, lifecycle);
                foreach (var child in all.Conditions.Skip(1))
                {
                    var next = Select(child, columns, subject, now, lifecycle);
                    for (var w = 0; w < words; w++)
                    {
                        result[w] &= next[w];
                    }
                }

                return result;
            }

            case AnyOf any:
            {
                var result = Select(any.Conditions[0], columns, subject, now, lifecycle);
                foreach (var child in any.Conditions.Skip(1))
                {
                    var next = Select(child, columns, subject, now, lifecycle);
                    for (var w = 0; w < words; w++)
                    {
                        result[w] |= next[w];
                    }
                }

                return result;
            }

            case NotOf not:
            {
                var result = Select(not.Condition, columns, subject, now, lifecycle);
                for (var w = 0; w < words; w++)
                {
                    result[w] = ~result[w];
                }

                if (columns.Count % 64 != 0)
                {
                    result[words - 1] &= (1UL << (columns.Count % 64)) - 1;
                }

                return result;
            }

            case MetricIs { Metric.DaysSince: true, Comparison.Op: "gt" or "gte" or "lt" or "lte" or "between" } metric:
                return DaysSince(metric, columns, now);
            case MetricIs metric when Numeric(metric.Metric.Name, columns, now) is { } values:
                return Compare(values, columns.Count, metric.Comparison, now);
            case TraitIs trait:
                return Codes(columns.Trait(trait.Path), columns.Count, trait.Comparison, now);
            default:
                return RowByRow(condition, columns, subject, now, lifecycle);
        }
    }

    public static long Count(ulong[] bits)
    {
        long count = 0;
        foreach (var word in bits)
        {
            count += BitOperations.PopCount(word);
        }

        return count;
    }

    public static IEnumerable<int> Rows(ulong[] bits)
    {
        for (var w = 0; w < bits.Length; w++)
        {
            var word = bits[w];
            while (word != 0)
            {
                yield return (w * 64) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
    }

    /// <summary>"Days since" thresholds compared as times: days &gt; x exactly when the time is before now - x days.</summary>
    private static ulong[] DaysSince(MetricIs metric, FactsColumns c, DateTimeOffset now)
    {
        var times = metric.Metric.Name switch
        {
            "daysSinceFirstOrder" => c.FirstOrderAt,
            "daysSinceLastOrder" => c.LastOrderAt,
            "daysSinceFirstSeen" => c.FirstSeen,
            _ => c.LastSeen,
        };
        var nowMs = (double)now.ToUnixTimeMilliseconds();
        var low = nowMs - (metric.Comparison.Value!.Value.Number!.Value * 86_400_000.0);
        var high = metric.Comparison.Upper is { Number: { } upper } ? nowMs - (upper * 86_400_000.0) : 0;
        // Every operator becomes an inclusive range of times; long.MinValue (no value) is never in it.
        var (from, to) = metric.Comparison.Op switch
        {
            "gt" => (long.MinValue + 1, (long)Math.Ceiling(low) - 1),
            "gte" => (long.MinValue + 1, (long)Math.Floor(low)),
            "lt" => ((long)Math.Floor(low) + 1, long.MaxValue),
            "lte" => ((long)Math.Ceiling(low), long.MaxValue),
            _ => ((long)Math.Ceiling(high), (long)Math.Floor(low)),
        };
        var n = c.Count;
        var bits = new ulong[(n + 63) / 64];
        for (var i = 0; i < n; i++)
        {
            var at = times[i];
            if (at >= from && at <= to)
            {
                bits[i >> 6] |= 1UL << (i & 63);
            }
        }

        return bits;
    }

    /// <summary>The metric per row as a number (NaN: no value), or null for metrics not held in columns.</summary>
    private static double[]? Numeric(string metric, FactsColumns c, DateTimeOffset now)
    {
        var n = c.Count;
        var nowMs = now.ToUnixTimeMilliseconds();
        double[] Dates(long[] source, bool daysSince)
        {
            var values = new double[n];
            for (var i = 0; i < n; i++)
            {
                var at = source[i];
                values[i] = at == FactsColumns.Missing ? double.NaN : daysSince ? (nowMs - at) / 86_400_000.0 : at;
            }

            return values;
        }

        switch (metric)
        {
            case "orders": return c.Orders;
            case "revenue": return c.Revenue;
            case "refunded": return c.Refunded;
            case "sessions": return c.Sessions;
            case "pageViews": return c.PageViews;
            case "productViews": return c.ProductViews;
            case "events": return c.Events;
            case "timeOnSiteSeconds": return c.TimeOnSite;
            case "firstOrderAt": return Dates(c.FirstOrderAt, false);
            case "lastOrderAt": return Dates(c.LastOrderAt, false);
            case "firstSeen": return Dates(c.FirstSeen, false);
            case "lastSeen": return Dates(c.LastSeen, false);
            case "daysSinceFirstOrder": return Dates(c.FirstOrderAt, true);
            case "daysSinceLastOrder": return Dates(c.LastOrderAt, true);
            case "daysSinceFirstSeen": return Dates(c.FirstSeen, true);
            case "daysSinceLastSeen": return Dates(c.LastSeen, true);
            case "aov":
                var aov = new double[n];
                for (var i = 0; i < n; i++)
                {
                    aov[i] = c.Orders[i] == 0 ? double.NaN : Math.Round(c.Revenue[i] / c.Orders[i], 2);
                }

                return aov;
            default:
                return null;
        }
    }

    /// <summary>The same comparison as <see cref="Comparison.Holds"/>, over an array (NaN: no value).</summary>
    private static ulong[] Compare(double[] values, int n, Comparison comparison, DateTimeOffset now)
    {
        var bits = new ulong[(n + 63) / 64];
        var x = comparison.Value?.AsNumber() ?? double.NaN;
        var y = comparison.Upper?.AsNumber() ?? double.NaN;
        var nowMs = (double)now.ToUnixTimeMilliseconds();
        var duration = comparison.Duration?.TotalMilliseconds ?? 0;
        var set = comparison.Values?.Select(v => v.AsNumber()).Where(v => v is not null).Select(v => v!.Value).ToArray() ?? [];
        Func<double, bool> test = comparison.Op switch
        {
            "exists" => v => !double.IsNaN(v),
            "notExists" => double.IsNaN,
            "eq" => v => Math.Abs(v - x) < 1e-9,
            "neq" => v => !double.IsNaN(v) && !(Math.Abs(v - x) < 1e-9),
            "in" => v => Array.Exists(set, s => Math.Abs(v - s) < 1e-9),
            "notIn" => v => !double.IsNaN(v) && !Array.Exists(set, s => Math.Abs(v - s) < 1e-9),
            "olderThan" => v => nowMs - v >= duration,
            "within" => v => nowMs - v < duration,
            _ => _ => false,
        };

        // The common comparisons run as plain loops (NaN compares false, as a missing value should).
        switch (comparison.Op)
        {
            case "gt":
                for (var i = 0; i < n; i++)
                {
                    if (values[i] > x)
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
            case "gte":
                for (var i = 0; i < n; i++)
                {
                    if (values[i] >= x)
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
            case "lt":
                for (var i = 0; i < n; i++)
                {
                    if (values[i] < x)
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
            case "lte":
                for (var i = 0; i < n; i++)
                {
                    if (values[i] <= x)
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
            case "between":
                for (var i = 0; i < n; i++)
                {
                    if (values[i] >= x && values[i] <= y)
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
            default:
                for (var i = 0; i < n; i++)
                {
                    if (test(values[i]))
                    {
                        bits[i >> 6] |= 1UL << (i & 63);
                    }
                }

                break;
        }

        return bits;
    }

    private static ulong[] Codes(TraitColumn column, int n, Comparison comparison, DateTimeOffset now)
    {
        var matches = column.Values.Select(v => comparison.Holds(v, now)).ToArray();
        var codes = column.Codes;
        var bits = new ulong[(n + 63) / 64];
        for (var i = 0; i < n; i++)
        {
            if (matches[codes[i]])
            {
                bits[i >> 6] |= 1UL << (i & 63);
            }
        }

        return bits;
    }

    private static ulong[] RowByRow(Condition condition, FactsColumns columns, PreviewSubject subject, DateTimeOffset now, LifecycleWindows lifecycle)
    {
        var bits = new ulong[(columns.Count + 63) / 64];
        for (var i = 0; i < columns.Count; i++)
        {
            subject.CustomerId = columns.Ids[i];
            subject.Facts = columns.Rows[i];
            if (RuleEvaluator.Holds(condition, subject, now, lifecycle))
            {
                bits[i >> 6] |= 1UL << (i & 63);
            }
        }

        return bits;
    }
}
