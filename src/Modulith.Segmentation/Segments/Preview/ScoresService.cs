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
        var rfm = RfmComputation.Run(facts.Columns, now, lifecycle);
        var changed = new List<(string, CustomerScores)>();
        var columns = facts.Columns;
        for (var i = 0; i < rfm.Buyers.Length; i++)
        {
            var row = rfm.Buyers[i];
            var id = columns.Ids[row];
            double? clv = null, churn = null;
            if (predictions is not null && predictions.TryGetValue(id, out var prediction))
            {
                (clv, churn) = (prediction.Clv, prediction.Churn);
            }

            var scores = new CustomerScores(rfm.Recency[i], rfm.Frequency[i], rfm.Monetary[i], RfmThresholds.Cells[rfm.Cell[i]], clv, churn);
            if (facts.Scores.GetValueOrDefault(id) != scores)
            {
                facts.Scores[id] = scores;
                columns.Rows[row].Scores = scores;
                changed.Add((id, scores));
            }
        }

        return (rfm.Summary(now), changed);
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
