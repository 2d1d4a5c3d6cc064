using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Modulith.Leads.Contracts;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Storage;

namespace Modulith.Leads.Scoring;

/// <summary>Rescores a workspace's leads in the background after its scoring model changed, with visible progress.</summary>
internal sealed partial class Rescorer(LeadProjectionStore projection, IGrainFactory grains, ILogger<Rescorer> logger)
{
    private readonly ConcurrentDictionary<string, RescoreProgress> _progress = new(StringComparer.Ordinal);

    public RescoreProgress? Progress(string workspaceId) => _progress.GetValueOrDefault(workspaceId);

    public void Start(string workspaceId, int version)
    {
        _progress[workspaceId] = new RescoreProgress(version, 0, 0, false);
        _ = Task.Run(() => RunAsync(workspaceId, version));
    }

    private async Task RunAsync(string workspaceId, int version)
    {
        try
        {
            var ids = await projection.AllIdsAsync(workspaceId, CancellationToken.None);
            var done = 0;
            _progress[workspaceId] = new RescoreProgress(version, ids.Count, 0, ids.Count == 0);
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
            {
                await grains.GetGrain<ILeadGrain>($"{workspaceId}/{id}").RescoreAsync(version);
                var now = Interlocked.Increment(ref done);
                _progress.AddOrUpdate(workspaceId, new RescoreProgress(version, ids.Count, now, now == ids.Count),
                    (_, p) => p.ModelVersion == version ? p with { Done = Math.Max(p.Done, now), Finished = now == ids.Count } : p);
            });
            LogRescored(workspaceId, ids.Count, version);
        }
        catch (Exception exception)
        {
            LogRescoreFailed(exception, workspaceId, version);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rescored {Count} leads of workspace {WorkspaceId} with scoring model version {Version}")]
    private partial void LogRescored(string workspaceId, int count, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rescoring workspace {WorkspaceId} with model version {Version} failed")]
    private partial void LogRescoreFailed(Exception exception, string workspaceId, int version);
}
