using Modulith.Attribution.Models;

namespace Modulith.UnitTests.Attribution;

public sealed class CreditModelTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static ConversionPath Path(string id, double revenue, int convertedOnDay, params (int Day, string Channel)[] touches) =>
        new(id, "c-" + id, T0.AddDays(convertedOnDay), revenue, touches.Select(t => new Touch(T0.AddDays(t.Day), t.Channel, "camp-" + t.Channel)).ToList());

    private static Dictionary<string, Credit> Run(string model, IReadOnlyList<ConversionPath> paths, IReadOnlyList<IReadOnlyList<Touch>>? nulls = null) =>
        CreditModels.Run(model, paths, nulls ?? [], t => t.Channel, ModelSettings.Default);

    [Fact]
    public void Position_based_gives_40_20_40_and_50_50_for_two_touches()
    {
        var paths = new[] { Path("a", 100, 10, (1, "search"), (2, "social"), (3, "email"), (4, "social")), Path("b", 10, 10, (5, "search"), (6, "email")) };
        var credit = Run("position_based", paths);
        Assert.Equal(0.4 + 0.5, credit["search"].Conversions, 9);
        Assert.Equal(0.1 + 0.4, credit["social"].Conversions, 9);
        Assert.Equal(0.1 + 0.5, credit["email"].Conversions, 9);
        Assert.Equal(40 + 5, credit["search"].Revenue, 9);
    }

    [Fact]
    public void Time_decay_weighs_a_touch_by_two_to_the_minus_age_over_the_half_life()
    {
        // Ages 14 and 7 days with a 7-day half-life: weights 1/4 and 1/2, normalised to 1/3 and 2/3.
        var credit = Run("time_decay", [Path("a", 90, 14, (0, "search"), (7, "email"))]);
        Assert.Equal(1.0 / 3, credit["search"].Conversions, 9);
        Assert.Equal(2.0 / 3, credit["email"].Conversions, 9);
        Assert.Equal(60, credit["email"].Revenue, 9);
    }

    [Fact]
    public void Last_non_direct_skips_direct_and_falls_back_to_it_when_every_touch_was_direct()
    {
        var credit = Run("last_non_direct", [Path("a", 10, 5, (1, "search"), (2, "direct")), Path("b", 10, 5, (1, "direct"), (2, "direct"))]);
        Assert.Equal(1, credit["search"].Conversions);
        Assert.Equal(1, credit["direct"].Conversions);
    }

    [Fact]
    public void A_conversion_without_a_touch_counts_as_direct()
    {
        foreach (var model in Modulith.Attribution.Contracts.AttributionModels.All)
        {
            var credit = Run(model, [Path("a", 10, 5)]);
            Assert.Equal(1, credit["direct"].Conversions, 9);
        }
    }

    [Fact]
    public void Markov_removal_effects_match_the_hand_computed_chain()
    {
        // start->search 2/3, start->email 1/3; search->email 1/2, search->conv 1/2; email->conv 1/2, email->null 1/2.
        // P(conv) = 2/3; without search 1/6 (effect 3/4); without email 1/3 (effect 1/2); shares 0.6 and 0.4.
        var paths = new[] { Path("a", 100, 5, (1, "search"), (2, "email")), Path("b", 50, 5, (1, "search")) };
        IReadOnlyList<IReadOnlyList<Touch>> nulls = [[new Touch(T0, "email", null)]];
        var effects = CreditModels.RemovalEffects(paths, nulls, t => t.Channel);
        Assert.Equal(0.75, effects["search"], 9);
        Assert.Equal(0.5, effects["email"], 9);
        var credit = Run("markov", paths, nulls);
        Assert.Equal(1.2, credit["search"].Conversions, 9);
        Assert.Equal(0.8, credit["email"].Conversions, 9);
        Assert.Equal(90, credit["search"].Revenue, 9);
        Assert.Equal(60, credit["email"].Revenue, 9);
    }

    [Fact]
    public void Markov_counts_repeated_channels_as_self_transitions()
    {
        // search->search 1/2, search->conv 1/2 ... a single channel always gets all the credit.
        var credit = Run("markov", [Path("a", 10, 5, (1, "search"), (2, "search"))], [[new Touch(T0, "search", null)]]);
        Assert.Equal(1, credit["search"].Conversions, 9);
    }

    [Fact]
    public void Exact_shapley_over_coalitions_equals_the_closed_form()
    {
        var random = new Random(3);
        string[] channels = ["a", "b", "c", "d", "e", "f", "g"];
        var paths = Enumerable.Range(0, 200).Select(i => Path("p" + i, random.Next(1, 100), 30,
            Enumerable.Range(0, random.Next(1, 6)).Select(_ => (random.Next(0, 29), channels[random.Next(channels.Length)])).OrderBy(t => t.Item1).ToArray())).ToList();
        var keys = paths.SelectMany(p => p.Touches.Select(t => t.Channel)).Distinct().Order(StringComparer.Ordinal).ToList();
        var exact = CreditModels.ShapleyExact(paths, t => t.Channel, keys);
        var simplified = CreditModels.ShapleySimplified(paths, t => t.Channel);
        foreach (var key in keys)
        {
            Assert.Equal(simplified[key].Conversions, exact[key].Conversions, 6);
            Assert.Equal(simplified[key].Revenue, exact[key].Revenue, 6);
        }

        Assert.Equal(200, exact.Values.Sum(c => c.Conversions), 6);
    }

    [Fact]
    public void Shapley_splits_a_conversion_equally_among_the_distinct_channels_of_its_path()
    {
        var credit = Run("shapley", [Path("a", 90, 5, (1, "search"), (2, "email"), (3, "search"), (4, "social"))]);
        Assert.Equal(1.0 / 3, credit["search"].Conversions, 9);
        Assert.Equal(30, credit["social"].Revenue, 9);
    }

    [Fact]
    public void Every_model_hands_out_exactly_the_conversions_and_revenue_of_the_period()
    {
        var paths = new[] { Path("a", 100, 5, (1, "search"), (2, "email"), (3, "direct")), Path("b", 50, 5, (1, "social")), Path("c", 25, 6) };
        foreach (var model in Modulith.Attribution.Contracts.AttributionModels.All)
        {
            var credit = Run(model, paths, [[new Touch(T0, "email", null)]]);
            Assert.Equal(3, credit.Values.Sum(c => c.Conversions), 9);
            Assert.Equal(175, credit.Values.Sum(c => c.Revenue), 9);
        }
    }
}
