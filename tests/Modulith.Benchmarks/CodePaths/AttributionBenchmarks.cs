using BenchmarkDotNet.Attributes;
using Modulith.Attribution.Models;

namespace Modulith.Benchmarks.CodePaths;

/// <summary>
/// Every attribution model over 1,000,000 conversion paths (and 1,000,000 paths without a conversion, which only Markov
/// reads), against a plain pass that only counts the transitions of the same paths.
/// </summary>
[MemoryDiagnoser]
public class AttributionBenchmarks
{
    private static readonly string[] Channels =
        ["paid_search", "organic_search", "paid_social", "organic_social", "email", "sms", "referral", "affiliate", "display", "direct", "sales"];

    private List<ConversionPath> _conversions = [];
    private List<IReadOnlyList<Touch>> _nonConverting = [];
    private readonly Func<Touch, string> _byChannel = t => t.Channel;

    [Params(1_000_000)]
    public int Paths { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        List<Touch> Touches(DateTimeOffset end)
        {
            var count = 1 + Math.Min(7, (int)(-Math.Log(1 - random.NextDouble()) * 1.5));
            var touches = new List<Touch>(count);
            for (var i = 0; i < count; i++)
            {
                // Skewed: search, email and direct are the common channels.
                var channel = Channels[Math.Min(Channels.Length - 1, (int)(-Math.Log(1 - random.NextDouble()) * 3))];
                touches.Add(new Touch(end.AddHours(-random.Next(1, 30 * 24)), channel, "campaign-" + random.Next(20)));
            }

            touches.Sort((a, b) => a.At.CompareTo(b.At));
            return touches;
        }

        _conversions = new List<ConversionPath>(Paths);
        _nonConverting = new List<IReadOnlyList<Touch>>(Paths);
        for (var i = 0; i < Paths; i++)
        {
            var at = start.AddMinutes(random.Next(0, 300 * 24 * 60));
            _conversions.Add(new ConversionPath("o" + i, "c" + i, at, Math.Round(20 + (random.NextDouble() * 200), 2), Touches(at)));
            _nonConverting.Add(Touches(at));
        }
    }

    /// <summary>The baseline: one pass over the same paths counting channel-to-channel transitions (start, conversion and null included).</summary>
    [Benchmark(Baseline = true)]
    public long CountTransitions()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var counts = new long[Channels.Length + 3, Channels.Length + 3];
        int StateOf(string key) => index.TryGetValue(key, out var i) ? i : index[key] = index.Count + 1;
        void Count(IReadOnlyList<Touch> touches, int end)
        {
            var from = 0;
            foreach (var touch in touches)
            {
                var to = StateOf(touch.Channel);
                counts[from, to]++;
                from = to;
            }

            counts[from, end]++;
        }

        foreach (var conversion in _conversions)
        {
            Count(conversion.Touches, Channels.Length + 1);
        }

        foreach (var path in _nonConverting)
        {
            Count(path, Channels.Length + 2);
        }

        return counts[0, 1];
    }

    [Benchmark]
    public int FirstTouch() => CreditModels.Run("first_touch", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int LastTouch() => CreditModels.Run("last_touch", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int LastNonDirect() => CreditModels.Run("last_non_direct", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int Linear() => CreditModels.Run("linear", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int PositionBased() => CreditModels.Run("position_based", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int TimeDecay() => CreditModels.Run("time_decay", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int Markov() => CreditModels.Run("markov", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;

    [Benchmark]
    public int Shapley() => CreditModels.Run("shapley", _conversions, _nonConverting, _byChannel, ModelSettings.Default).Count;
}
