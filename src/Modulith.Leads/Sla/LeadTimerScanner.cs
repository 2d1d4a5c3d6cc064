using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Storage;

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
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await timers.DueAsync(clock.GetUtcNow() + LookAhead, 500, stoppingToken);
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = stoppingToken },
                    async (timer, _) => await grains.GetGrain<ILeadGrain>($"{timer.WorkspaceId}/{timer.LeadId}").FireDueTimersAsync());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogScanFailed(exception);
            }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waking due lead timers failed; trying again")]
    private partial void LogScanFailed(Exception exception);
}
