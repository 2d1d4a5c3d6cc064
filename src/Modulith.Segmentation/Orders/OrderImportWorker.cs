using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Time;

namespace Modulith.Segmentation.Orders;

/// <summary>
/// Feeds imports into ingestion chunk by chunk, on whichever silo claims them. Live traffic goes first: the worker waits
/// while the dispatch backlog is long, so an import of 100,000+ orders fills idle capacity instead of delaying events.
/// </summary>
internal sealed partial class OrderImportWorker(
    OrderImportStore imports, IEventIngestion ingestion, IEventBacklog backlog, Segments.Membership.ScoresScheduler scores, ILogger<OrderImportWorker> logger) : BackgroundService
{
    private const long BacklogCeiling = 5_000;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>Starts work on a new import at once instead of at the next poll.</summary>
    public void Wake() => _wake.Release();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoops.ClaimAsync(async token =>
        {
            if (await imports.ClaimAsync(Lease, token) is not { } job)
            {
                return false;
            }

            await RunAsync(job, token);
            return true;
        }, _wake, Idle, LogImportLoopFailed, stoppingToken);

    private async Task RunAsync(OrderImportJob job, CancellationToken stoppingToken)
    {
        for (var chunk = job.NextChunk; chunk < job.Chunks; chunk++)
        {
            while (await backlog.CountPendingAsync(stoppingToken) > BacklogCeiling)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);
            }

            var body = await imports.ChunkAsync(job, chunk, stoppingToken);
            if (body is null)
            {
                continue; // ingested by an earlier holder of the lease, which stopped before recording it
            }

            var array = JsonNode.Parse(body)!.AsArray();
            var messages = array.Select(m => m!.AsObject()).ToList();
            array.Clear(); // detaches the messages, which ingestion takes as its own

            var error = await IngestAsync(job.WorkspaceId, messages, stoppingToken);

            if (error is not null)
            {
                await imports.FinishAsync(job.WorkspaceId, job.Id, "failed", $"Chunk {chunk + 1} of {job.Chunks} was refused by ingestion: {error}", stoppingToken);
                LogImportFailed(job.WorkspaceId, job.Id, error);
                return;
            }

            await imports.AdvanceAsync(job, chunk, messages.Count, Lease, stoppingToken);
        }

        LogImportIngested(job.WorkspaceId, job.Id, job.Total);
        scores.Request(job.WorkspaceId);
    }

    /// <summary>Ingests one chunk, waiting out ingestion's over-capacity answers.</summary>
    private async Task<string?> IngestAsync(string workspaceId, IReadOnlyList<JsonObject> messages, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                return await ingestion.IngestAsync(workspaceId, messages, stoppingToken);
            }
            catch (IngestionOverCapacityException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The order import loop failed; retrying")]
    private partial void LogImportLoopFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order import {ImportId} of workspace {WorkspaceId} failed: {Error}")]
    private partial void LogImportFailed(string workspaceId, string importId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Order import {ImportId} of workspace {WorkspaceId}: {Orders} orders ingested")]
    private partial void LogImportIngested(string workspaceId, string importId, int orders);
}
