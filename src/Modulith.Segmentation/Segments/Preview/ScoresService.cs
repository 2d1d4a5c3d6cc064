using System.Text.Json;
using Microsoft.Extensions.Logging;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Orders;
using Modulith.Segmentation.Segments.Membership;
using Modulith.Segmentation.Value;

namespace Modulith.Segmentation.Segments.Preview;

/// <summary>
/// Recomputes a workspace's RFM quintiles and cells and each customer's predicted value and churn probability; saves
/// the scores that changed and, when a segment reads scores, re-evaluates those customers.
/// </summary>
internal sealed partial class ScoresService(
    FactsIndex index,
    SegmentStore store,
    SegmentCatalog catalog,
    OrderHistoryStore orders,
    ICustomerValueService value,
    IGrainFactory grains,
    TimeProvider clock,
    ILogger<ScoresService> logger)
{
    public const double ClvHorizonWeeks = 52;

    public async Task<RfmSummary?> RecomputeAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var model = await value.ModelAsync(workspaceId, today, cancellationToken);
        var predictions = model is null ? null : await PredictAsync(workspaceId, model, today, cancellationToken);
        var set = await catalog.GetAsync(workspaceId);
        var (summary, changed) = await index.UseAsync(workspaceId, facts => Score(facts, now, set.Lifecycle, predictions), cancellationToken);
        await store.SaveScoresAsync(workspaceId, changed, cancellationToken);
        await store.SaveRfmAsync(workspaceId, JsonSerializer.Serialize(summary), now, cancellationToken);
        catalog.Invalidate(workspaceId);
        LogRecomputed(workspaceId, summary.Customers, changed.Count);
        if ((await catalog.GetAsync(workspaceId)).UsesScores)
        {
            await Parallel.ForEachAsync(changed, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (row, _) => await grains.GetGrain<ICustomerSegmentsGrain>($"{workspaceId}/{row.CustomerId}").UpdateScoresAsync(row.Scores));
        }

        return summary;
    }

    public async Task<RfmSummary?> LatestAsync(string workspaceId, CancellationToken cancellationToken) =>
        await store.RfmAsync(workspaceId, cancellationToken) is { } body ? JsonSerializer.Deserialize<RfmSummary>(body) : null;

    /// <summary>RFM over the facts in memory; answers the summary and the customers whose scores changed (updated in the index).</summary>
    internal static (RfmSummary Summary, List<(string CustomerId, CustomerScores Scores)> Changed) Score(
        WorkspaceFacts facts, DateTimeOffset now, LifecycleWindows lifecycle, IReadOnlyDictionary<string, (double Clv, double Churn)>? predictions)
    {
        var buyers = new List<(string Id, CustomerFacts Row)>();
        var lifecycleCounts = Lifecycle.All.ToDictionary(l => l, _ => 0L, StringComparer.Ordinal);
        foreach (var (id, row) in facts.Rows)
        {
            lifecycleCounts[Lifecycle.Of(row, now, lifecycle)]++;
            if (row.Orders > 0 && row.LastOrderAt is not null)
            {
                buyers.Add((id, row));
            }
        }

        var recency = new double[buyers.Count];
        var frequency = new double[buyers.Count];
        var monetary = new double[buyers.Count];
        for (var i = 0; i < buyers.Count; i++)
        {
            recency[i] = (now - buyers[i].Row.LastOrderAt!.Value).TotalDays;
            frequency[i] = buyers[i].Row.Orders;
            monetary[i] = buyers[i].Row.Revenue;
        }

        var thresholds = RfmThresholds.Compute(recency, frequency, monetary, now);
        var cells = RfmThresholds.Cells.ToDictionary(c => c, _ => 0L, StringComparer.Ordinal);
        var changed = new List<(string, CustomerScores)>();
        for (var i = 0; i < buyers.Count; i++)
        {
            var (id, row) = buyers[i];
            int r = thresholds!.RecencyScore(recency[i]), f = thresholds.FrequencyScore(frequency[i]), m = thresholds.MonetaryScore(monetary[i]);
            var cell = RfmThresholds.CellOf(r, f, m);
            cells[cell]++;
            double? clv = null, churn = null;
            if (predictions is not null && predictions.TryGetValue(id, out var prediction))
            {
                (clv, churn) = (prediction.Clv, prediction.Churn);
            }

            var scores = new CustomerScores(r, f, m, cell, clv, churn);
            if (facts.Scores.GetValueOrDefault(id) != scores)
            {
                facts.Scores[id] = scores;
                row.Scores = scores;
                changed.Add((id, scores));
            }
        }

        var summary = new RfmSummary(now, buyers.Count, thresholds?.RecencyDays.Select(d => Math.Round(d, 3)).ToList() ?? [], thresholds?.Frequency ?? [], thresholds?.Monetary ?? [], cells, lifecycleCounts);
        return (summary, changed);
    }

    private async Task<Dictionary<string, (double Clv, double Churn)>> PredictAsync(string workspaceId, Contracts.ClvModel model, DateOnly today, CancellationToken cancellationToken)
    {
        var bgNbd = new BgNbdParameters(model.BgNbd.R, model.BgNbd.Alpha, model.BgNbd.A, model.BgNbd.B);
        var gammaGamma = model.GammaGamma is { } gg ? new GammaGammaParameters(gg.P, gg.Q, gg.V) : null;
        var predictions = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        var end = new DateTimeOffset(today.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await foreach (var (customerId, history) in orders.ByCustomerAsync(workspaceId, end, cancellationToken))
        {
            if (PurchaseSummary.Of(PurchaseSummary.Occasions(history), today) is not { } summary)
            {
                continue;
            }

            var alive = BgNbd.ProbabilityAlive(bgNbd, summary);
            var purchases = BgNbd.ExpectedPurchases(bgNbd, summary, ClvHorizonWeeks);
            var spend = gammaGamma is not null ? GammaGamma.ExpectedAverageSpend(gammaGamma, summary) : history.Average(o => o.Amount);
            predictions[customerId] = (Math.Round(purchases * spend, 2), Math.Round(1 - alive, 4));
        }

        return predictions;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scores recomputed for workspace {WorkspaceId}: {Customers} customers with orders, {Changed} changed")]
    private partial void LogRecomputed(string workspaceId, int customers, int changed);
}
