using System.Collections.Concurrent;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Orders;

namespace Modulith.Segmentation.Value;

/// <summary>Fits BG/NBD and Gamma-Gamma per workspace over the order history and predicts each customer's value.</summary>
internal sealed class CustomerValueService(OrderHistoryStore orders, TimeProvider clock) : ICustomerValueService
{
    /// <summary>Fewer customers than this cannot identify four parameters.</summary>
    public const int MinimumCustomers = 10;

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private const double NextPurchaseSearchWeeks = 520;
    private readonly ConcurrentDictionary<(string, DateOnly), (DateTimeOffset At, ClvModel? Model)> _cache = new();

    public async Task<ClvModel?> ModelAsync(string workspaceId, DateOnly? asOf, CancellationToken cancellationToken = default)
    {
        var day = asOf ?? Today();
        if (_cache.TryGetValue((workspaceId, day), out var cached) && clock.GetUtcNow() - cached.At < CacheFor)
        {
            return cached.Model;
        }

        var summaries = new List<PurchaseSummary>();
        long orderCount = 0, occasions = 0;
        await foreach (var (_, history) in orders.ByCustomerAsync(workspaceId, EndOf(day), cancellationToken))
        {
            orderCount += history.Count;
            var grouped = PurchaseSummary.Occasions(history);
            occasions += grouped.Count;
            if (PurchaseSummary.Of(grouped, day) is { } summary)
            {
                summaries.Add(summary);
            }
        }

        ClvModel? model = null;
        if (summaries.Count >= MinimumCustomers && summaries.Any(s => s.X > 0))
        {
            var (bgNbd, ll) = BgNbd.Fit(summaries);
            var spend = GammaGamma.Fit(summaries);
            model = new ClvModel(day, "weeks", orderCount, occasions,
                new BgNbdFit(bgNbd.R, bgNbd.Alpha, bgNbd.A, bgNbd.B, ll, summaries.Count),
                spend is { } s ? new GammaGammaFit(s.Parameters.P, s.Parameters.Q, s.Parameters.V, s.LogLikelihood, s.Customers) : null,
                clock.GetUtcNow());
        }

        _cache[(workspaceId, day)] = (clock.GetUtcNow(), model);
        return model;
    }

    public async Task<CustomerValue?> CustomerAsync(string workspaceId, string customerId, double horizonWeeks, DateOnly? asOf = null, CancellationToken cancellationToken = default)
    {
        var day = asOf ?? Today();
        var history = (await orders.OfCustomerAsync(workspaceId, customerId, cancellationToken)).Where(o => o.PlacedAt < EndOf(day)).ToList();
        if (history.Count == 0)
        {
            return null;
        }

        var summary = PurchaseSummary.Of(PurchaseSummary.Occasions(history.Select(o => (DateOnly.FromDateTime(o.PlacedAt.UtcDateTime), o.Revenue))), day)!.Value;
        var margins = history.Where(o => o.Margin is not null).ToList();
        var model = await ModelAsync(workspaceId, day, cancellationToken);
        double? alive = null, purchases = null, spend = null, value = null, next = null;
        if (model is not null)
        {
            var parameters = new BgNbdParameters(model.BgNbd.R, model.BgNbd.Alpha, model.BgNbd.A, model.BgNbd.B);
            alive = BgNbd.ProbabilityAlive(parameters, summary);
            purchases = BgNbd.ExpectedPurchases(parameters, summary, horizonWeeks);
            spend = model.GammaGamma is { } gg ? GammaGamma.ExpectedAverageSpend(new GammaGammaParameters(gg.P, gg.Q, gg.V), summary) : history.Average(o => o.Revenue);
            value = purchases * spend;
            next = WeeksToNextPurchase(parameters, summary);
        }

        return new CustomerValue(customerId, day, history.Count, Math.Round(history.Sum(o => o.Revenue), 2), margins.Count == 0 ? null : Math.Round(margins.Sum(o => o.Margin!.Value), 2),
            summary.X, Math.Round(summary.Recency, 4), Math.Round(summary.Age, 4), alive, alive is null ? null : 1 - alive, horizonWeeks, purchases, spend, value, next);
    }

    /// <summary>The time until one more purchase is expected: the smallest t with E[Y(t)] = 1, searched up to ten years.</summary>
    private static double? WeeksToNextPurchase(BgNbdParameters parameters, PurchaseSummary summary)
    {
        if (BgNbd.ExpectedPurchases(parameters, summary, NextPurchaseSearchWeeks) < 1)
        {
            return null;
        }

        double low = 0, high = NextPurchaseSearchWeeks;
        for (var i = 0; i < 40; i++)
        {
            var mid = (low + high) / 2;
            if (BgNbd.ExpectedPurchases(parameters, summary, mid) < 1)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return Math.Round(high, 2);
    }

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    private static DateTimeOffset EndOf(DateOnly day) => new(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
}
