using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Value;

namespace Modulith.UnitTests.Segmentation;

public sealed class CustomerValueModelTests
{
    private static readonly DateOnly CalibrationEnd = new(1997, 9, 30);

    private static List<(string Customer, PurchaseSummary Summary)> CdnowSummaries() =>
        CdnowData.Transactions().GroupBy(t => t.Customer)
            .Select(g => (g.Key, PurchaseSummary.Of(PurchaseSummary.Occasions(g.Select(t => (t.Day, t.Amount))), CalibrationEnd)))
            .Where(s => s.Item2 is not null)
            .Select(s => (s.Key, s.Item2!.Value))
            .ToList();

    [Fact]
    public void Purchase_occasions_per_day_give_the_published_cdnow_calibration_summary()
    {
        var ours = CdnowSummaries();
        var published = CdnowData.PublishedSummary();
        Assert.Equal(published.Count, ours.Count);
        var ordered = ours.OrderBy(s => int.Parse(s.Customer, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var (frequency, recency, age) = published[i + 1];
            var summary = ordered[i].Summary;
            Assert.Equal(frequency, summary.X);
            Assert.Equal(recency, summary.Recency, 0.006);
            Assert.Equal(age, summary.Age, 0.006);
        }
    }

    [Fact]
    public void Bg_nbd_fitted_on_cdnow_reproduces_the_published_parameters_within_one_percent()
    {
        var (fitted, logLikelihood) = BgNbd.Fit(CdnowSummaries().Select(s => s.Summary));

        Assert.InRange(fitted.R, 0.243 * 0.99, 0.243 * 1.01);
        Assert.InRange(fitted.Alpha, 4.414 * 0.99, 4.414 * 1.01);
        Assert.InRange(fitted.A, 0.793 * 0.99, 0.793 * 1.01);
        Assert.InRange(fitted.B, 2.426 * 0.99, 2.426 * 1.01);
        Assert.InRange(logLikelihood, -9582.5, -9582.3);
    }

    [Fact]
    public void Gamma_gamma_fitted_on_cdnow_repeat_customers_reproduces_the_published_parameters_within_one_percent()
    {
        var fit = GammaGamma.Fit(CdnowSummaries().Select(s => s.Summary));

        Assert.NotNull(fit);
        Assert.Equal(946, fit.Value.Customers);
        Assert.InRange(fit.Value.Parameters.P, 6.25 * 0.99, 6.25 * 1.01);
        Assert.InRange(fit.Value.Parameters.Q, 3.74 * 0.99, 3.74 * 1.01);
        Assert.InRange(fit.Value.Parameters.V, 15.44 * 0.99, 15.44 * 1.01);
    }

    [Fact]
    public void Predictions_follow_the_published_formulas()
    {
        var parameters = new BgNbdParameters(0.243, 4.414, 0.793, 2.426);
        // Fader, Hardie and Lee (2005), p. 280: a customer with x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks.
        Assert.Equal(1.226, BgNbd.ExpectedPurchases(parameters, new PurchaseSummary(2, 30.43, 38.86, 0, 0), 39), 0.002);
        Assert.Equal(1.0, BgNbd.ProbabilityAlive(parameters, new PurchaseSummary(0, 0, 38.86, 0, 0)));
        var recent = BgNbd.ProbabilityAlive(parameters, new PurchaseSummary(5, 38, 38.86, 20, 100));
        var lapsed = BgNbd.ProbabilityAlive(parameters, new PurchaseSummary(5, 5, 38.86, 20, 100));
        Assert.True(recent > 0.85 && lapsed < 0.01, $"P(alive) recent {recent}, lapsed {lapsed}");

        var spend = new GammaGammaParameters(6.25, 3.74, 15.44);
        var population = 6.25 * 15.44 / (3.74 - 1);
        Assert.Equal(population, GammaGamma.ExpectedAverageSpend(spend, new PurchaseSummary(0, 0, 10, 0, 0)), 1e-9);
        var heavy = GammaGamma.ExpectedAverageSpend(spend, new PurchaseSummary(10, 30, 38, 100, 1000));
        Assert.InRange(heavy, population, 100);
        Assert.Equal(1, Hypergeometric.F21(1, 1, 1, 0));
        Assert.Equal(-Math.Log(1 - 0.5) / 0.5, Hypergeometric.F21(1, 1, 2, 0.5), 1e-12);
    }
}
