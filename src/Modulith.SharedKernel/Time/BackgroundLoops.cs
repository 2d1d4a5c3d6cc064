namespace Modulith.SharedKernel.Time;

/// <summary>The two loops background workers run: a periodic scan, and claim-work-or-wait.</summary>
public static class BackgroundLoops
{
    /// <summary>Runs <paramref name="work"/> every <paramref name="interval"/> until stopped; a failure is reported and the loop goes on.</summary>
    public static async Task RepeatAsync(TimeSpan interval, Func<CancellationToken, Task> work, Action<Exception> failed, TimeProvider clock, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await work(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                failed(exception);
            }

            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="claimAndRun"/> again at once while it finds work (answers true); otherwise waits for
    /// <paramref name="wake"/> or <paramref name="idle"/>. A failure is reported and the loop goes on.
    /// </summary>
    public static async Task ClaimAsync(Func<CancellationToken, Task<bool>> claimAndRun, SemaphoreSlim wake, TimeSpan idle, Action<Exception> failed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await claimAndRun(stoppingToken))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                failed(exception);
            }

            try
            {
                await wake.WaitAsync(idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
