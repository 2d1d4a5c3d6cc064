using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Modulith.Customers.Contracts;
using Modulith.Ingestion.Contracts;
using Modulith.Leads.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Segments.Preview;
using Modulith.SharedKernel.Time;

namespace Modulith.Segmentation.Segments.Membership;

/// <summary>
/// The durable side of time-based conditions: every half second each silo wakes the segment grains whose next due time
/// is (almost) here; a woken grain evaluates what is due and arms an exact timer for what is about to be.
/// </summary>
internal sealed partial class SegmentTimerScanner(SegmentStore store, IGrainFactory grains, TimeProvider clock, ILogger<SegmentTimerScanner> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LookAhead = TimeSpan.FromSeconds(2);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoops.RepeatAsync(Interval, async token =>
        {
            var due = await store.DueTimersAsync(clock.GetUtcNow() + LookAhead, 1_000, token);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = token },
                async (timer, _) => await grains.GetGrain<ICustomerSegmentsGrain>($"{timer.WorkspaceId}/{timer.Key}").WakeAsync());
        }, LogScanFailed, clock, stoppingToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking due segment timers failed; trying again")]
    private partial void LogScanFailed(Exception exception);
}

/// <summary>Evaluates a new or changed segment over the customers that existed before it, page by page, with progress; any silo resumes it.</summary>
internal sealed partial class SegmentBackfillWorker(
    SegmentStore store, ICustomerDirectory customers, ILeadDirectory leads, IGrainFactory grains, TimeProvider clock, ILogger<SegmentBackfillWorker> logger) : BackgroundService
{
    private const int PageSize = 500;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _wake = new(0);

    public void Wake() => _wake.Release();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoops.ClaimAsync(async token =>
        {
            if (await store.ClaimBackfillAsync(clock.GetUtcNow(), Lease, token) is not { } job)
            {
                return false;
            }

            await RunAsync(job, token);
            return true;
        }, _wake, Idle, LogBackfillFailed, stoppingToken);

    private async Task RunAsync(BackfillJob job, CancellationToken stoppingToken)
    {
        var total = await customers.CountAsync(job.WorkspaceId, stoppingToken);
        var done = job.Done;
        var cursor = job.Cursor;
        while (true)
        {
            var page = await customers.ListAsync(job.WorkspaceId, cursor, PageSize, stoppingToken);
            await Parallel.ForEachAsync(page, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stoppingToken },
                async (customer, token) => await EvaluateAsync(job, customer.Id, token));
            done += page.Count;
            cursor = page.Count > 0 ? page[^1].Id : cursor;
            var finished = page.Count < PageSize;
            if (!await store.BackfillProgressAsync(job, Math.Max(total, done), done, cursor, finished, clock.GetUtcNow() + Lease, stoppingToken))
            {
                return; // the segment changed or was deleted: a new back-fill takes over
            }

            if (finished)
            {
                LogBackfillCompleted(job.WorkspaceId, job.SegmentId, job.Version, done);
                return;
            }
        }
    }

    private async Task EvaluateAsync(BackfillJob job, string customerId, CancellationToken cancellationToken)
    {
        var workspaceId = job.WorkspaceId;
        var grain = grains.GetGrain<ICustomerSegmentsGrain>($"{workspaceId}/{customerId}");
        if (await grain.EvaluateAsync(null, job.SegmentId, job.Version))
        {
            return;
        }

        // A customer the segment grains have not seen yet: its facts come from the single customer view.
        if (await customers.GetProfileAsync(workspaceId, customerId, cancellationToken) is not { } profile || profile.Id != customerId)
        {
            return;
        }

        var facts = new CustomerFacts();
        facts.Update(profile);
        var lead = await leads.GetStatusAsync(workspaceId, customerId, profile.Identities.Any(i => i.Kind is "email" or "phone"));
        facts.LeadStage = lead.Stage;
        facts.LeadScore = lead.Score;
        await grain.EvaluateAsync(facts, job.SegmentId, job.Version);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The segment back-fill loop failed; retrying")]
    private partial void LogBackfillFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Segment {SegmentId} v{Version} of workspace {WorkspaceId} back-filled over {Customers} customers")]
    private partial void LogBackfillCompleted(string workspaceId, string segmentId, int version, long customers);
}

/// <summary>
/// Relays stored membership changes (an outbox): to in-process observers, and onto the customer's timeline as
/// <c>Segment Entered</c> / <c>Segment Exited</c> events (message id <c>segment-change-{sequence}</c>, so a relay
/// repeated after a crash adds nothing).
/// </summary>
internal sealed partial class SegmentChangeRelay(
    SegmentStore store, ICustomerDirectory customers, IEventIngestion ingestion, IEnumerable<ISegmentMembershipObserver> observers,
    TimeProvider clock, ILogger<SegmentChangeRelay> logger) : BackgroundService
{
    public const string Entered = "Segment Entered";
    public const string Exited = "Segment Exited";
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly ISegmentMembershipObserver[] _observers = observers.ToArray();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var relayed = 0;
            try
            {
                relayed = await RelayAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (IngestionOverCapacityException)
            {
                relayed = 0;
            }
            catch (Exception exception)
            {
                LogRelayFailed(exception);
            }

            if (relayed == 0)
            {
                try
                {
                    await Task.Delay(Interval, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<int> RelayAsync(CancellationToken cancellationToken)
    {
        var changes = await store.PendingChangesAsync(200, cancellationToken);
        foreach (var workspace in changes.GroupBy(c => c.WorkspaceId))
        {
            var messages = new List<JsonObject>();
            foreach (var change in workspace)
            {
                var contract = new SegmentMembershipChange(change.Sequence, change.WorkspaceId, change.SegmentId, change.CustomerId, change.Kind, change.At);
                foreach (var observer in _observers)
                {
                    await observer.OnMembershipChangedAsync(contract);
                }

                if (await IdentifierAsync(change.WorkspaceId, change.CustomerId, cancellationToken) is { } identifier)
                {
                    messages.Add(new JsonObject
                    {
                        ["type"] = "track",
                        [identifier.Kind] = identifier.Value,
                        ["event"] = change.Kind == "entered" ? Entered : Exited,
                        ["messageId"] = "segment-change-" + change.Sequence.ToString(CultureInfo.InvariantCulture),
                        ["timestamp"] = change.At.ToString("O", CultureInfo.InvariantCulture),
                        ["properties"] = new JsonObject { ["segment_id"] = change.SegmentId },
                    });
                }
            }

            if (messages.Count > 0 && await ingestion.IngestAsync(workspace.Key, messages, cancellationToken) is { } error)
            {
                LogTimelineRefused(workspace.Key, error);
            }
        }

        if (changes.Count > 0)
        {
            await store.MarkRelayedAsync(changes.Select(c => c.Sequence).ToList(), cancellationToken);
        }

        return changes.Count;
    }

    private async Task<(string Kind, string Value)?> IdentifierAsync(string workspaceId, string customerId, CancellationToken cancellationToken)
    {
        if (await customers.GetProfileAsync(workspaceId, customerId, cancellationToken) is not { } profile)
        {
            return null;
        }

        var identity = profile.Identities.FirstOrDefault(i => i.Kind == "userId") ?? profile.Identities.FirstOrDefault(i => i.Kind == "anonymousId");
        return identity is null ? null : (identity.Kind, identity.Value);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying segment membership changes failed; retrying")]
    private partial void LogRelayFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingestion refused the segment timeline events of workspace {WorkspaceId}: {Error}")]
    private partial void LogTimelineRefused(string workspaceId, string error);
}

/// <summary>Recomputes RFM and value scores periodically per workspace, and soon after an order import has been applied.</summary>
internal sealed partial class ScoresScheduler(
    SegmentStore store, ScoresService scores, IEventBacklog backlog, IOptions<SegmentationOptions> options, TimeProvider clock, ILogger<ScoresScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PeriodicCheck = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _requested = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.Ordinal);
    private DateTimeOffset _lastPeriodicCheck = DateTimeOffset.MinValue;

    /// <summary>Asks for a recomputation once the events waiting to be applied are in.</summary>
    public void Request(string workspaceId) => _requested[workspaceId] = clock.GetUtcNow() + Tick;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        BackgroundLoops.RepeatAsync(Tick, async token =>
        {
            var now = clock.GetUtcNow();
            var due = _requested.Where(r => r.Value <= now).Select(r => r.Key).ToList();
            if (due.Count > 0 && await backlog.CountPendingAsync(token) > 0)
            {
                return;
            }

            if (now - _lastPeriodicCheck >= PeriodicCheck)
            {
                _lastPeriodicCheck = now;
                due.AddRange(await PeriodicallyDueAsync(now, token));
            }

            foreach (var workspaceId in due.Distinct(StringComparer.Ordinal))
            {
                _requested.TryRemove(workspaceId, out _);
                await scores.RecomputeAsync(workspaceId, token);
            }
        }, LogScoresFailed, clock, stoppingToken);

    /// <summary>
    /// Workspaces whose last computation is an interval old. A workspace never computed waits one interval from when this
    /// silo first saw it, so a new workspace's first minutes are not spent on scores nobody asked for.
    /// </summary>
    private async Task<List<string>> PeriodicallyDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var interval = options.Value.ScoresInterval;
        var due = new List<string>();
        foreach (var (workspaceId, last) in await store.WorkspacesAsync(cancellationToken))
        {
            var since = last > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(last) : _firstSeen.TryGetValue(workspaceId, out var seen) ? seen : _firstSeen[workspaceId] = now;
            if (now - since >= interval)
            {
                due.Add(workspaceId);
            }
        }

        return due;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Recomputing RFM and value scores failed; retrying")]
    private partial void LogScoresFailed(Exception exception);
}
