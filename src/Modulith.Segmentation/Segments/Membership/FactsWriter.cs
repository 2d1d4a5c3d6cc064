using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Modulith.Segmentation.Segments.Membership;

/// <summary>
/// Writes customers' facts to <c>segment_facts</c> behind the grains, in batches (the latest facts of a customer win).
/// The table only serves previews, RFM and grain activation; a write lost in a crash is repaired by the customer's next change.
/// </summary>
internal sealed partial class FactsWriter(SegmentStore store, TimeProvider clock, ILogger<FactsWriter> logger) : BackgroundService
{
    private const int BatchSize = 2_000;
    private static readonly TimeSpan GatherFor = TimeSpan.FromMilliseconds(250);

    private readonly Channel<(string WorkspaceId, string CustomerId, CustomerFacts Facts)> _queue =
        Channel.CreateUnbounded<(string, string, CustomerFacts)>(new UnboundedChannelOptions { SingleReader = true });

    private long _pending;

    /// <summary>Facts queued and not yet written.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Queues the customer's facts; only the latest of a gathering window is serialised and written.</summary>
    public void Enqueue(string workspaceId, string customerId, CustomerFacts facts)
    {
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite((workspaceId, customerId, facts));
    }

    /// <summary>Waits until everything queued before the call is written (previews read their own writes).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (Pending > 0 && clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), clock, cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new Dictionary<(string, string), CustomerFacts>();
        var read = 0;
        while (batch.Count > 0 || await WaitAsync(stoppingToken))
        {
            while (batch.Count < BatchSize && _queue.Reader.TryRead(out var item))
            {
                batch[(item.WorkspaceId, item.CustomerId)] = item.Facts;
                read++;
            }

            try
            {
                await store.UpsertFactsAsync(batch.Select(b => (b.Key.Item1, b.Key.Item2, b.Value.ToJson())).ToList(), clock.GetUtcNow(), CancellationToken.None);
                batch.Clear();
                Interlocked.Add(ref _pending, -read);
                read = 0;
                if (!stoppingToken.IsCancellationRequested)
                {
                    // Gathering for a moment lets a busy customer's many changes become one row write.
                    await Task.Delay(GatherFor, clock, CancellationToken.None);
                }
            }
            catch (Exception exception)
            {
                LogWriteFailed(exception, batch.Count);
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), clock, CancellationToken.None);
            }
        }
    }

    private async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await _queue.Reader.WaitToReadAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping: write what is still queued.
            return _queue.Reader.TryPeek(out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} customers' segment facts failed; retrying")]
    private partial void LogWriteFailed(Exception exception, int count);
}
