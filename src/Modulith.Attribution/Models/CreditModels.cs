using MathNet.Numerics.LinearAlgebra;

namespace Modulith.Attribution.Models;

/// <summary>A touch on a conversion path.</summary>
internal readonly record struct Touch(DateTimeOffset At, string Channel, string? Campaign);

/// <summary>A conversion with the touches in its lookback window, oldest first (none: it counts as one direct touch).</summary>
internal sealed record ConversionPath(string Id, string CustomerId, DateTimeOffset At, double Revenue, IReadOnlyList<Touch> Touches);

/// <summary>Model parameters.</summary>
internal sealed record ModelSettings(TimeSpan Lookback, double PositionFirst, double PositionLast, TimeSpan HalfLife)
{
    public static readonly ModelSettings Default = new(TimeSpan.FromDays(30), 0.4, 0.4, TimeSpan.FromDays(7));
}

/// <summary>Conversions and revenue credited to one key (a channel or a campaign).</summary>
internal struct Credit
{
    public double Conversions;
    public double Revenue;
}

/// <summary>
/// The attribution models of SPEC §2, pure over conversion paths. Rule models split each conversion over its touches;
/// Markov splits the period's conversions by the channels' shares of the summed removal effects; Shapley splits each
/// conversion over the channels of its path, computed over coalitions (exact) for up to 15 keys.
/// </summary>
internal static class CreditModels
{
    public const string Direct = "direct";
    public const int ExactShapleyLimit = 15;

    public static Dictionary<string, Credit> Run(string model, IReadOnlyList<ConversionPath> conversions, IReadOnlyList<IReadOnlyList<Touch>> nonConverting,
        Func<Touch, string> key, ModelSettings settings) => model switch
        {
            "markov" => Markov(conversions, nonConverting, key),
            "shapley" => Shapley(conversions, key),
            _ => RuleBased(model, conversions, key, settings),
        };

    /// <summary>A conversion without a touch in its window counts as one direct touch at the conversion.</summary>
    public static IReadOnlyList<Touch> TouchesOf(ConversionPath conversion) =>
        conversion.Touches.Count > 0 ? conversion.Touches : [new Touch(conversion.At, Direct, null)];

    private static Dictionary<string, Credit> RuleBased(string model, IReadOnlyList<ConversionPath> conversions, Func<Touch, string> key, ModelSettings settings)
    {
        var credits = new Dictionary<string, Credit>(StringComparer.Ordinal);
        var weights = new List<double>();
        foreach (var conversion in conversions)
        {
            var touches = TouchesOf(conversion);
            Weights(model, conversion, touches, settings, weights);
            for (var i = 0; i < touches.Count; i++)
            {
                if (weights[i] == 0)
                {
                    continue;
                }

                Add(credits, key(touches[i]), weights[i], weights[i] * conversion.Revenue);
            }
        }

        return credits;
    }

    /// <summary>Each touch's share of one conversion (summing to 1).</summary>
    public static void Weights(string model, ConversionPath conversion, IReadOnlyList<Touch> touches, ModelSettings settings, List<double> weights)
    {
        var n = touches.Count;
        weights.Clear();
        for (var i = 0; i < n; i++)
        {
            weights.Add(0);
        }

        switch (model)
        {
            case "first_touch":
                weights[0] = 1;
                break;
            case "last_touch":
                weights[n - 1] = 1;
                break;
            case "last_non_direct":
                var last = n - 1;
                while (last > 0 && touches[last].Channel == Direct)
                {
                    last--;
                }

                // Every touch direct: the last (direct) touch keeps the credit.
                weights[touches[last].Channel == Direct ? n - 1 : last] = 1;
                break;
            case "linear":
                for (var i = 0; i < n; i++)
                {
                    weights[i] = 1.0 / n;
                }

                break;
            case "position_based":
                if (n == 1)
                {
                    weights[0] = 1;
                }
                else if (n == 2)
                {
                    weights[0] = weights[1] = 0.5;
                }
                else
                {
                    weights[0] = settings.PositionFirst;
                    weights[n - 1] = settings.PositionLast;
                    var middle = (1 - settings.PositionFirst - settings.PositionLast) / (n - 2);
                    for (var i = 1; i < n - 1; i++)
                    {
                        weights[i] = middle;
                    }
                }

                break;
            case "time_decay":
                double sum = 0;
                for (var i = 0; i < n; i++)
                {
                    var age = Math.Max(0, (conversion.At - touches[i].At).TotalSeconds);
                    weights[i] = Math.Pow(2, -age / settings.HalfLife.TotalSeconds);
                    sum += weights[i];
                }

                for (var i = 0; i < n; i++)
                {
                    weights[i] /= sum;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(model), model, "Unknown model.");
        }
    }

    /// <summary>
    /// First-order Markov chain with start, conversion and null states, from the transition counts of every path
    /// (consecutive repeats of a key included). A key's removal effect is the relative drop of the probability of reaching
    /// conversion from start when every transition into the key goes to null instead; its credit is its share of the
    /// summed removal effects, times the period's conversions and revenue.
    /// </summary>
    public static Dictionary<string, Credit> Markov(IReadOnlyList<ConversionPath> conversions, IReadOnlyList<IReadOnlyList<Touch>> nonConverting, Func<Touch, string> key)
    {
        var credits = new Dictionary<string, Credit>(StringComparer.Ordinal);
        var effects = RemovalEffects(conversions, nonConverting, key);
        var sum = effects.Values.Sum();
        var revenue = conversions.Sum(c => c.Revenue);
        foreach (var (k, effect) in effects)
        {
            var share = sum == 0 ? 0 : effect / sum;
            credits[k] = new Credit { Conversions = share * conversions.Count, Revenue = share * revenue };
        }

        return credits;
    }

    /// <summary>Each key's removal effect: 1 - P(conversion without the key) / P(conversion).</summary>
    public static Dictionary<string, double> RemovalEffects(IReadOnlyList<ConversionPath> conversions, IReadOnlyList<IReadOnlyList<Touch>> nonConverting, Func<Touch, string> key)
    {
        if (conversions.Count == 0)
        {
            return new Dictionary<string, double>(StringComparer.Ordinal);
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int StateOf(string k) => index.TryGetValue(k, out var i) ? i : index[k] = index.Count + 1;
        var transitions = new Dictionary<(int From, int To), long>();
        const int Conversion = -1, Null = -2;
        void Path(IReadOnlyList<Touch> touches, int end)
        {
            var from = 0;
            foreach (var touch in touches)
            {
                var to = StateOf(key(touch));
                transitions[(from, to)] = transitions.GetValueOrDefault((from, to)) + 1;
                from = to;
            }

            transitions[(from, end)] = transitions.GetValueOrDefault((from, end)) + 1;
        }

        foreach (var conversion in conversions)
        {
            Path(TouchesOf(conversion), Conversion);
        }

        foreach (var path in nonConverting)
        {
            if (path.Count > 0)
            {
                Path(path, Null);
            }
        }

        var size = index.Count + 1;
        var q = Matrix<double>.Build.Dense(size, size);
        var r = Vector<double>.Build.Dense(size);
        var totals = new double[size];
        foreach (var ((from, _), count) in transitions)
        {
            totals[from] += count;
        }

        foreach (var ((from, to), count) in transitions)
        {
            var p = count / totals[from];
            if (to == Conversion)
            {
                r[from] += p;
            }
            else if (to >= 0)
            {
                q[from, to] += p;
            }
        }

        var baseline = Absorption(q, r, -1);
        return index.ToDictionary(k => k.Key, k => baseline <= 0 ? 0 : Math.Max(0, (baseline - Absorption(q, r, k.Value)) / baseline), StringComparer.Ordinal);
    }

    /// <summary>P(reach conversion from start), with the state <paramref name="removed"/> (if any) leading to null.</summary>
    private static double Absorption(Matrix<double> q, Vector<double> r, int removed)
    {
        var transient = q.Clone();
        var exits = r.Clone();
        if (removed >= 0)
        {
            transient.ClearColumn(removed);
            transient.ClearRow(removed);
            exits[removed] = 0;
        }

        var system = Matrix<double>.Build.DenseIdentity(q.RowCount) - transient;
        return system.Solve(exits)[0];
    }

    /// <summary>
    /// Shapley values of the game "v(S) = conversions (and revenue) whose path's keys all lie in S" (Zhao et al. 2018).
    /// Up to 15 keys the value is computed over every coalition; beyond, by its closed form (each conversion split equally
    /// among the distinct keys of its path), which is the same number.
    /// </summary>
    public static Dictionary<string, Credit> Shapley(IReadOnlyList<ConversionPath> conversions, Func<Touch, string> key)
    {
        var keys = conversions.SelectMany(c => TouchesOf(c).Select(key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return keys.Count <= ExactShapleyLimit ? ShapleyExact(conversions, key, keys) : ShapleySimplified(conversions, key);
    }

    internal static Dictionary<string, Credit> ShapleySimplified(IReadOnlyList<ConversionPath> conversions, Func<Touch, string> key)
    {
        var credits = new Dictionary<string, Credit>(StringComparer.Ordinal);
        foreach (var conversion in conversions)
        {
            var distinct = TouchesOf(conversion).Select(key).Distinct(StringComparer.Ordinal).ToList();
            foreach (var k in distinct)
            {
                Add(credits, k, 1.0 / distinct.Count, conversion.Revenue / distinct.Count);
            }
        }

        return credits;
    }

    internal static Dictionary<string, Credit> ShapleyExact(IReadOnlyList<ConversionPath> conversions, Func<Touch, string> key, IReadOnlyList<string> keys)
    {
        var n = keys.Count;
        var position = keys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i, StringComparer.Ordinal);
        var subsets = 1 << n;
        var count = new double[subsets];
        var revenue = new double[subsets];
        foreach (var conversion in conversions)
        {
            var mask = 0;
            foreach (var touch in TouchesOf(conversion))
            {
                mask |= 1 << position[key(touch)];
            }

            count[mask]++;
            revenue[mask] += conversion.Revenue;
        }

        // v(S) = the sum over the paths whose key set is a subset of S (zeta transform over subsets).
        for (var bit = 0; bit < n; bit++)
        {
            for (var s = 0; s < subsets; s++)
            {
                if ((s & (1 << bit)) != 0)
                {
                    count[s] += count[s ^ (1 << bit)];
                    revenue[s] += revenue[s ^ (1 << bit)];
                }
            }
        }

        var weight = new double[n];
        for (var size = 0; size < n; size++)
        {
            // |S|! (n - |S| - 1)! / n!
            weight[size] = Math.Exp(LogFactorial(size) + LogFactorial(n - size - 1) - LogFactorial(n));
        }

        var credits = new Dictionary<string, Credit>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            double conversionsShare = 0, revenueShare = 0;
            for (var s = 0; s < subsets; s++)
            {
                if ((s & (1 << i)) != 0)
                {
                    continue;
                }

                var w = weight[System.Numerics.BitOperations.PopCount((uint)s)];
                conversionsShare += w * (count[s | (1 << i)] - count[s]);
                revenueShare += w * (revenue[s | (1 << i)] - revenue[s]);
            }

            if (conversionsShare != 0 || revenueShare != 0)
            {
                credits[keys[i]] = new Credit { Conversions = conversionsShare, Revenue = revenueShare };
            }
        }

        return credits;
    }

    private static double LogFactorial(int n) => MathNet.Numerics.SpecialFunctions.FactorialLn(n);

    private static void Add(Dictionary<string, Credit> credits, string key, double conversions, double revenue)
    {
        var credit = credits.GetValueOrDefault(key);
        credit.Conversions += conversions;
        credit.Revenue += revenue;
        credits[key] = credit;
    }
}
