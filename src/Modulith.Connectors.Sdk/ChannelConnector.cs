namespace Modulith.Connectors.Sdk;

/// <summary>A message to send on a channel.</summary>
/// <param name="IdempotencyKey">The same key on a retry; the connector must not send twice.</param>
/// <param name="Recipient">The address: email address, E.164 phone number or URL.</param>
/// <param name="Subject">The subject, where the channel has one.</param>
/// <param name="TextBody">The plain-text body.</param>
/// <param name="HtmlBody">The HTML body, where the channel has one.</param>
/// <param name="Headers">Extra headers or metadata (e.g. List-Unsubscribe targets).</param>
/// <param name="Transactional">Transactional messages (order status) follow their own rules, not marketing consent.</param>
public sealed record OutboundMessage(
    string IdempotencyKey,
    string Recipient,
    string? Subject,
    string? TextBody,
    string? HtmlBody,
    IReadOnlyDictionary<string, string>? Headers,
    bool Transactional);

/// <summary>The result of a send.</summary>
/// <param name="Status">Sent, rejected for good, or failed for now (the host retries).</param>
/// <param name="ProviderMessageId">The provider's id of the message, for delivery reports.</param>
/// <param name="Detail">What happened (never a secret).</param>
public sealed record DeliveryResult(DeliveryStatus Status, string? ProviderMessageId, string? Detail);

/// <summary>A send's status.</summary>
public enum DeliveryStatus
{
    /// <summary>Handed over to the provider.</summary>
    Sent,

    /// <summary>Refused for good (invalid recipient, bounced): no retry.</summary>
    Rejected,

    /// <summary>Failed for now (timeout, 5xx): the host retries with back-off.</summary>
    TransientFailure,
}

/// <summary>What a channel can do.</summary>
/// <param name="Channel">email, sms, webhook, push ...</param>
/// <param name="SupportsHtml">Whether HTML bodies are sent.</param>
/// <param name="MaxMessagesPerSecond">The provider's rate limit the host keeps to.</param>
public sealed record ChannelCapabilities(string Channel, bool SupportsHtml, int MaxMessagesPerSecond);

/// <summary>A connector that sends messages out.</summary>
public interface IChannelConnector
{
    /// <summary>What the channel can do.</summary>
    ChannelCapabilities Capabilities { get; }

    /// <summary>Sends one message, idempotently.</summary>
    Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken);

    /// <summary>Checks that the instance can reach the provider.</summary>
    Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken);

    /// <summary>
    /// Verifies and parses a provider's callback (delivery report, open, click, bounce, complaint, unsubscribe) posted to
    /// <c>/webhooks/{instanceId}</c>. Channels without callbacks keep this default, which refuses them.
    /// </summary>
    Task<DeliveryCallbackResult> HandleCallbackAsync(InboundWebhook callback, ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new DeliveryCallbackResult(WebhookOutcome.Rejected, [], "This channel takes no callbacks."));
}

/// <summary>What happened to a sent message, as the provider reports it.</summary>
public enum DeliveryEventKind
{
    /// <summary>Delivered to the recipient.</summary>
    Delivered,

    /// <summary>Opened.</summary>
    Opened,

    /// <summary>A link was clicked.</summary>
    Clicked,

    /// <summary>Bounced or undeliverable.</summary>
    Bounced,

    /// <summary>Marked as spam.</summary>
    Complained,

    /// <summary>The recipient unsubscribed.</summary>
    Unsubscribed,
}

/// <summary>One provider report about a sent message.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="ProviderMessageId">The provider's id of the message (as answered by the send).</param>
/// <param name="IdempotencyKey">The platform's key of the message, when the provider echoes it.</param>
/// <param name="Recipient">The recipient address (email or E.164 phone), which identifies the customer.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Detail">Provider detail (status code, bounce reason, clicked URL).</param>
public sealed record DeliveryEvent(DeliveryEventKind Kind, string ProviderMessageId, string? IdempotencyKey, string Recipient, DateTimeOffset OccurredAt, string? Detail);

/// <summary>The verdict on a channel provider's callback.</summary>
/// <param name="Outcome">Accepted, rejected (401, nothing stored) or acknowledged without data.</param>
/// <param name="Events">The delivery events it reports.</param>
/// <param name="Reason">Why it was rejected.</param>
public sealed record DeliveryCallbackResult(WebhookOutcome Outcome, IReadOnlyList<DeliveryEvent> Events, string? Reason = null);
