using Modulith.Segmentation.Segments;

namespace Modulith.UnitTests.Segmentation;

public sealed class RfmTests
{
    [Fact]
    public void Cut_points_are_nearest_rank_percentiles_like_percentile_disc()
    {
        double[] values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var thresholds = RfmThresholds.Compute(values, values, values, DateTimeOffset.UnixEpoch)!;
        Assert.Equal([2, 4, 6, 8], thresholds.Frequency);
        Assert.Equal(1, thresholds.FrequencyScore(2));
        Assert.Equal(2, thresholds.FrequencyScore(3));
        Assert.Equal(5, thresholds.FrequencyScore(10));
        Assert.Equal(5, thresholds.RecencyScore(1));
        Assert.Equal(1, thresholds.RecencyScore(9));
    }

    [Fact]
    public void Selection_finds_the_same_cut_points_as_sorting()
    {
        var random = new Random(7);
        for (var round = 0; round < 50; round++)
        {
            var values = Enumerable.Range(0, random.Next(1, 500)).Select(_ => (double)random.Next(0, 40)).ToArray();
            var sorted = values.OrderBy(v => v).ToArray();
            var expected = RfmThresholds.Percentiles.Select(p => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)]).ToArray();
            Assert.Equal(expected, RfmThresholds.Compute(values, values, values, DateTimeOffset.UnixEpoch)!.Monetary);
        }
    }

    [Fact]
    public void Ties_share_a_score()
    {
        double[] orders = [1, 1, 1, 1, 1, 1, 1, 2, 3, 9];
        var thresholds = RfmThresholds.Compute(orders, orders, orders, DateTimeOffset.UnixEpoch)!;
        Assert.Equal(1, thresholds.FrequencyScore(1));
        Assert.Equal(4, thresholds.FrequencyScore(2));
        Assert.Equal(5, thresholds.FrequencyScore(3));
    }

    [Fact]
    public void Nobody_with_an_order_means_no_thresholds() => Assert.Null(RfmThresholds.Compute([], [], [], DateTimeOffset.UnixEpoch));

    [Theory]
    [InlineData(5, 5, 5, "champions")]
    [InlineData(5, 1, 1, "new")]
    [InlineData(4, 1, 1, "promising")]
    [InlineData(4, 3, 3, "loyal")]
    [InlineData(5, 2, 2, "potential_loyalist")]
    [InlineData(3, 2, 3, "need_attention")]
    [InlineData(3, 1, 1, "about_to_sleep")]
    [InlineData(2, 3, 3, "at_risk")]
    [InlineData(1, 5, 4, "cant_lose")]
    [InlineData(2, 1, 1, "hibernating")]
    [InlineData(1, 1, 1, "lost")]
    public void Every_named_cell_is_reachable(int recency, int frequency, int monetary, string cell) =>
        Assert.Equal(cell, RfmThresholds.CellOf(recency, frequency, monetary));

    [Fact]
    public void Every_score_combination_has_a_cell()
    {
        var seen = new HashSet<string>();
        for (var r = 1; r <= 5; r++)
        {
            for (var f = 1; f <= 5; f++)
            {
                for (var m = 1; m <= 5; m++)
                {
                    seen.Add(RfmThresholds.CellOf(r, f, m));
                }
            }
        }

        Assert.True(seen.SetEquals(RfmThresholds.Cells));
    }
}
