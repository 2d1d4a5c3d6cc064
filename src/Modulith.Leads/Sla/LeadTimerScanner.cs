using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Time;

namespace Modulith.Leads.Sla;

/// <summary>
/// The durable side of SLA timers: every half second each silo wakes the lead grains whose next SLA time is (almost)
/// due. A woken grain fires what is due and arms an exact in-memory timer for the rest, so on a healthy silo timers fire
/// on time, and after a restart or a silo failure the stored due times bring them back within a second.
/// </summary>
internal sealed partial class LeadTimerScanner(LeadTimerStore timers, IGrainFactory grains, TimeProvider clock, ILogger<LeadTimerScanner> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LookAhead = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
        await BackgroundLoops.RepeatAsync(Interval, async token =>
        {
            var due = await timers.DueAsync(clock.GetUtcNow() + LookAhead, 500, token);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = token },
                async (timer, _) => await grains.GetGrain<ILeadGrain>($"{timer.WorkspaceId}/{timer.Key}").FireDueTimersAsync());
        }, LogScanFailed, clock, stoppingToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking due lead timers failed; trying again")]
    private partial void LogScanFailed(Exception exception);
}
