using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors.Instances;

namespace Modulith.Host.Connectors.Messaging;

/// <summary>The next wait of a message that failed for now (pure).</summary>
internal static class RetrySchedule
{
    /// <summary>base * 2^(attempt-1), capped, with up to 20 % jitter either way so retries of one outage spread out.</summary>
    public static TimeSpan DelayAfter(int attempt, MessagingOptions options, double jitter)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var delay = Math.Min(options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, exponent), options.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(delay * (1 + (Math.Clamp(jitter, -1, 1) * 0.2)));
    }
}

/// <summary>
/// Sends queued messages through their channel connectors: every call goes through the plugin's timeout and circuit
/// breaker and the channel's rate limit; a transient failure is retried with exponential back-off, a message that
/// exhausts its attempts goes to the dead-letter list, one the provider refuses for good is marked rejected.
/// </summary>
internal sealed partial class OutboxDispatcher(
    OutboxStore store,
    ConnectorInstanceStore instances,
    PluginCatalog catalog,
    OutboxSignal signal,
    Modulith.Ingestion.Contracts.IEventIngestion ingestion,
    IOptions<MessagingOptions> options,
    TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private const int BatchSize = 32;
    private readonly ConcurrentDictionary<string, RateLimiter> _limiters = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<StoredMessage> batch = [];
            try
            {
                batch = await store.ClaimDueAsync(BatchSize, settings.Lease, stoppingToken);
                if (batch.Count == 0)
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                    continue;
                }

                await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stoppingToken }, (message, token) => new ValueTask(SendAsync(message, settings, token)));
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // The host is stopping: what this silo claimed and did not finish is handed back at once, so the next
                // start (or another silo) sends it now instead of after the lease. A send cut off after the receiver
                // took it is sent again; the idempotency key lets the receiver tell.
                try
                {
                    await store.ReleaseAsync([.. batch.Select(m => m.Id)], CancellationToken.None);
                }
                catch (Exception exception)
                {
                    LogDispatchFailed(exception);
                }

                return;
            }
            catch (Exception exception)
            {
                LogDispatchFailed(exception);
                await Task.Delay(settings.PollInterval, clock, stoppingToken);
            }
        }
    }

    private async Task SendAsync(StoredMessage message, MessagingOptions settings, CancellationToken cancellationToken)
    {
        var instance = await instances.ResolveAsync(message.InstanceId, cancellationToken);
        if (instance is null)
        {
            await store.MarkDeadAsync(message.Id, "The connector instance no longer exists.", cancellationToken);
            return;
        }

        var (connectorId, connectorSettings) = instance.Value;
        var plugin = catalog.Plugins.FirstOrDefault(p => p.Manifest?.Id == connectorId && p.Status == PluginStatus.Loaded);
        if (plugin?.Channel is not { } channel)
        {
            await FailForNowAsync(message, settings, $"The connector '{connectorId}' is not loaded.", cancellationToken);
            return;
        }

        var limiter = _limiters.GetOrAdd(message.InstanceId, _ => CreateLimiter(channel.Capabilities.MaxMessagesPerSecond));
        using var lease = limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            await store.ScheduleRetryAsync(message.Id, clock.GetUtcNow() + wait, "Waiting for the channel's rate limit.", countsAsAttempt: false, cancellationToken);
            return;
        }

        var outbound = new OutboundMessage(message.Id, message.Recipient, message.Subject, message.TextBody, message.HtmlBody, message.Headers, message.Transactional);
        DeliveryResult result;
        try
        {
            result = await plugin.Resilience.ExecuteAsync(
                static async (state, token) => await state.channel.SendAsync(state.outbound, state.connectorSettings, token),
                (channel, outbound, connectorSettings),
                cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            result = new DeliveryResult(DeliveryStatus.TransientFailure, null, $"{exception.GetType().Name}: {exception.Message}");
        }

        switch (result.Status)
        {
            case DeliveryStatus.Sent:
                await store.MarkSentAsync(message.Id, result.ProviderMessageId, cancellationToken);
                break;
            case DeliveryStatus.Rejected:
                LogRejected(message.WorkspaceId, message.Id, connectorId, result.Detail);
                await ReportBounceAsync(message, channel.Capabilities.Channel, result, cancellationToken);
                await store.MarkRejectedAsync(message.Id, result.Detail, cancellationToken);
                break;
            default:
                await FailForNowAsync(message, settings, result.Detail, cancellationToken);
                break;
        }
    }

    /// <summary>A refused email or SMS is a bounce on the recipient's profile, as if the provider had reported it.</summary>
    private async Task ReportBounceAsync(StoredMessage message, string channel, DeliveryResult result, CancellationToken cancellationToken)
    {
        if (channel is not ("email" or "sms"))
        {
            return;
        }

        var recipient = message.Recipient;
        var angle = recipient.LastIndexOf('<');
        if (angle >= 0 && recipient.EndsWith('>'))
        {
            recipient = recipient[(angle + 1)..^1];
        }

        var bounce = new DeliveryEvent(DeliveryEventKind.Bounced, result.ProviderMessageId ?? message.Id, message.Id, recipient, clock.GetUtcNow(), result.Detail);
        try
        {
            await ingestion.IngestAsync(message.WorkspaceId, Webhooks.ConnectorEventMapper.DeliveryToSegment(channel, message.InstanceId, [bounce]), cancellationToken);
        }
        catch (Modulith.Ingestion.Contracts.IngestionOverCapacityException)
        {
            LogBounceNotRecorded(message.WorkspaceId, message.Id);
        }
    }

    private async Task FailForNowAsync(StoredMessage message, MessagingOptions settings, string? error, CancellationToken cancellationToken)
    {
        var attempt = message.Attempts + 1;
        if (attempt >= settings.MaxAttempts)
        {
            LogDeadLettered(message.WorkspaceId, message.Id, attempt, error);
            await store.MarkDeadAsync(message.Id, error, cancellationToken);
            return;
        }

        var delay = RetrySchedule.DelayAfter(attempt, settings, (Random.Shared.NextDouble() * 2) - 1);
        LogRetrying(message.WorkspaceId, message.Id, attempt, delay, error);
        await store.ScheduleRetryAsync(message.Id, clock.GetUtcNow() + delay, error, countsAsAttempt: true, cancellationToken);
    }

    private static TokenBucketRateLimiter CreateLimiter(int perSecond)
    {
        var rate = Math.Max(perSecond, 1);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate,
            TokensPerPeriod = rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bounce of message {MessageId} of workspace {WorkspaceId} was not recorded: ingestion is over capacity")]
    private partial void LogBounceNotRecorded(string workspaceId, string messageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outbox dispatcher failed; it tries again")]
    private partial void LogDispatchFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} of workspace {WorkspaceId} was refused by {ConnectorId}: {Detail}")]
    private partial void LogRejected(string workspaceId, string messageId, string connectorId, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} of workspace {WorkspaceId} failed attempt {Attempt}; retrying in {Delay}: {Error}")]
    private partial void LogRetrying(string workspaceId, string messageId, int attempt, TimeSpan delay, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} of workspace {WorkspaceId} is dead-lettered after {Attempt} attempts: {Error}")]
    private partial void LogDeadLettered(string workspaceId, string messageId, int attempt, string? error);
}
