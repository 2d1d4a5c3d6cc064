using Modulith.Attribution.Contracts;
using Modulith.Attribution.Models;
using Modulith.Attribution.Storage;
using Modulith.Leads.Contracts;
using Modulith.Segmentation.Contracts;

namespace Modulith.Attribution.Kpis;

/// <summary>The shared KPIs (docs/kpis.md), one definition for marketing and sales.</summary>
internal sealed class KpiCalculator(AttributionStore store, AttributionService attribution, ICustomerValueService value, ILeadReporting leads)
{
    /// <summary>CLV is averaged over at most this many of the period's new customers (the first by first-order time).</summary>
    public const int ClvSample = 2_000;

    private const double ClvHorizonWeeks = 52;

    public static readonly IReadOnlyList<(string Name, double UpToDays)> Buckets =
        [("under_1_day", 1), ("1_to_7_days", 7), ("7_to_30_days", 30), ("30_to_90_days", 90), ("90_days_or_more", double.PositiveInfinity)];

    public async Task<KpiReport> ComputeAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, string? channel, string? campaign, string model, CancellationToken cancellationToken)
    {
        var byCampaign = campaign is not null;
        bool Selected(string key) => byCampaign ? key == campaign : channel is null || key == channel;
        var spendRows = (await store.SpendAsync(workspaceId, from, to, cancellationToken))
            .Where(s => (channel is null || s.Channel == channel) && (campaign is null || s.Campaign == campaign)).ToList();
        var spendByKey = spendRows.GroupBy(s => byCampaign ? s.Campaign : s.Channel).ToDictionary(g => g.Key, g => g.Sum(s => s.Amount), StringComparer.Ordinal);
        var totalSpend = spendRows.Sum(s => s.Amount);
        var currencies = spendRows.Select(s => s.Currency).Distinct(StringComparer.Ordinal).ToList();

        // One read of the touches serves the order paths, the first-order paths and the conversion rates.
        var (settings, touches) = await attribution.TouchesAsync(workspaceId, from, to, cancellationToken);
        var (orderPaths, nonConverting) = AttributionService.Build(await store.ConversionsAsync(workspaceId, "order", from, to, cancellationToken), touches, settings, from);
        var (firstOrderPaths, firstNonConverting) = AttributionService.Build(await store.ConversionsAsync(workspaceId, "first_order", from, to, cancellationToken), touches, settings, from);
        var key = AttributionService.KeyOf(byCampaign);

        var acquired = CreditModels.Run(model, firstOrderPaths, firstNonConverting, key, settings);
        var cacRows = spendByKey.Keys.Union(acquired.Keys.Where(Selected), StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(k =>
            {
                var spend = spendByKey.GetValueOrDefault(k);
                var customers = acquired.GetValueOrDefault(k).Conversions;
                return new ChannelCac(byCampaign ? null : k, spend, Math.Round(customers, 4), customers > 0 && spend > 0 ? Math.Round((double)spend / customers, 2) : null, byCampaign ? k : null);
            })
            .ToList();
        var cac = new CacKpi(firstOrderPaths.Count > 0 && totalSpend > 0 ? Math.Round((double)totalSpend / firstOrderPaths.Count, 2) : null, cacRows);

        var roas = AttributionModels.All.Select(m =>
        {
            var credits = CreditModels.Run(m, orderPaths, nonConverting, key, settings);
            var rows = spendByKey.Keys.Order(StringComparer.Ordinal).Select(k =>
            {
                var revenue = credits.GetValueOrDefault(k).Revenue;
                var spend = spendByKey[k];
                return new ChannelRoas(byCampaign ? null : k, spend, Math.Round(revenue, 2), spend > 0 ? Math.Round(revenue / (double)spend, 4) : null, byCampaign ? k : null);
            }).ToList();
            var attributed = rows.Sum(r => r.Revenue);
            return new RoasKpi(m, totalSpend > 0 ? Math.Round(attributed / (double)totalSpend, 4) : null, rows);
        }).ToList();

        var clv = await ClvAsync(workspaceId, firstOrderPaths, cancellationToken);
        var inPeriod = touches.ToDictionary(t => t.Key, t => t.Value.Where(x => x.At >= from).ToList(), StringComparer.Ordinal);
        var rates = ConversionRates(inPeriod, orderPaths, channel, campaign);
        var time = await TimeToPurchaseAsync(workspaceId, firstOrderPaths, cancellationToken);
        var funnel = await leads.FunnelAsync(workspaceId, from, to, channel, campaign, cancellationToken);
        return new KpiReport(from, to, channel, campaign, model, currencies.Count == 1 ? currencies[0] : currencies.Count == 0 ? null : string.Join(",", currencies),
            totalSpend, firstOrderPaths.Count, Math.Round(orderPaths.Sum(p => p.Revenue), 2), cac, clv, roas, rates, time, funnel);
    }

    private async Task<ClvKpi> ClvAsync(string workspaceId, IReadOnlyList<ConversionPath> newCustomers, CancellationToken cancellationToken)
    {
        var values = new List<double>();
        var predicted = true;
        foreach (var customer in newCustomers.Take(ClvSample))
        {
            if (await value.CustomerAsync(workspaceId, customer.CustomerId, ClvHorizonWeeks, null, cancellationToken) is not { } customerValue)
            {
                continue;
            }

            if (customerValue.PredictedValue is { } future)
            {
                values.Add(customerValue.Revenue + future);
            }
            else
            {
                predicted = false;
                values.Add(customerValue.Revenue);
            }
        }

        return new ClvKpi(values.Count == 0 ? null : Math.Round(values.Average(), 2), values.Count > 0 && predicted ? "predicted" : "historical", values.Count);
    }

    /// <summary>Per channel and source: customers touched in the period, and those who ordered in the period at or after their first such touch.</summary>
    internal static List<ConversionRateKpi> ConversionRates(Dictionary<string, List<StoredTouch>> touches, IReadOnlyList<ConversionPath> orders, string? channel, string? campaign)
    {
        var firstOrderAfter = orders.GroupBy(o => o.CustomerId).ToDictionary(g => g.Key, g => g.Select(o => o.At).Order().ToList(), StringComparer.Ordinal);
        return touches
            .SelectMany(c => c.Value
                .Where(t => (channel is null || t.Channel == channel) && (campaign is null || t.Campaign == campaign))
                .GroupBy(t => (t.Channel, t.Source))
                .Select(g => (g.Key.Channel, g.Key.Source, Customer: c.Key, FirstTouch: g.Min(t => t.At))))
            .GroupBy(x => (x.Channel, x.Source))
            .Select(g =>
            {
                var visitors = g.Count();
                var converted = g.Count(x => firstOrderAfter.TryGetValue(x.Customer, out var at) && at.Exists(o => o >= x.FirstTouch));
                return new ConversionRateKpi(g.Key.Channel, g.Key.Source, visitors, converted, visitors == 0 ? null : Math.Round((double)converted / visitors, 4));
            })
            .OrderByDescending(r => r.Visitors).ThenBy(r => r.Channel, StringComparer.Ordinal).ThenBy(r => r.Source, StringComparer.Ordinal)
            .ToList();
    }

    private async Task<TimeToPurchaseKpi> TimeToPurchaseAsync(string workspaceId, IReadOnlyList<ConversionPath> firstOrders, CancellationToken cancellationToken)
    {
        var firstTouches = await store.FirstTouchesAsync(workspaceId, firstOrders.Select(o => o.CustomerId).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        var days = new List<double>();
        var without = 0;
        foreach (var order in firstOrders)
        {
            if (firstTouches.TryGetValue(order.CustomerId, out var touch) && touch <= order.At)
            {
                days.Add((order.At - touch).TotalDays);
            }
            else
            {
                without++;
            }
        }

        return TimeToPurchase(days, without);
    }

    internal static TimeToPurchaseKpi TimeToPurchase(List<double> days, int without)
    {
        days.Sort();
        var distribution = Buckets.ToDictionary(b => b.Name, _ => 0, StringComparer.Ordinal);
        foreach (var d in days)
        {
            distribution[Buckets.First(b => d < b.UpToDays).Name]++;
        }

        double? median = days.Count == 0 ? null : days.Count % 2 == 1 ? days[days.Count / 2] : (days[(days.Count / 2) - 1] + days[days.Count / 2]) / 2;
        double? p90 = days.Count == 0 ? null : days[(int)Math.Ceiling(0.9 * days.Count) - 1];
        return new TimeToPurchaseKpi(days.Count, without, median is null ? null : Math.Round(median.Value, 4), p90 is null ? null : Math.Round(p90.Value, 4), distribution);
    }
}
