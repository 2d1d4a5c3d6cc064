using System.Text.Json;

namespace Modulith.SharedKernel.Messaging;

/// <summary>A message to send through one of the workspace's channel connector instances.</summary>
/// <param name="Recipient">Email address, E.164 phone number or URL, as the channel expects.</param>
/// <param name="Subject">Subject template (Handlebars), where the channel has subjects.</param>
/// <param name="Text">Plain-text body template (Handlebars).</param>
/// <param name="Html">HTML body template (Handlebars; values are HTML-escaped unless written as <c>{{{triple}}}</c>).</param>
/// <param name="Data">Values the templates can use, as a JSON object.</param>
/// <param name="CustomerId">When given, the customer's profile is available to the templates as <c>customer</c>.</param>
/// <param name="IdempotencyKey">The caller's key: the same key on the same instance yields the same message, never a second send.</param>
/// <param name="Headers">Extra headers or metadata for the channel (e.g. <c>unsubscribeToken</c>).</param>
/// <param name="Transactional">Transactional (order status) rather than marketing.</param>
public sealed record ChannelMessageRequest(
    string? Recipient,
    string? Subject = null,
    string? Text = null,
    string? Html = null,
    JsonElement? Data = null,
    string? CustomerId = null,
    string? IdempotencyKey = null,
    IReadOnlyDictionary<string, string>? Headers = null,
    bool Transactional = false);

/// <summary>A queued, sent, rejected or dead-lettered message.</summary>
/// <param name="Id">The platform's message id (also the idempotency key the connector sees).</param>
/// <param name="InstanceId">The channel connector instance.</param>
/// <param name="IdempotencyKey">The caller's key, if one was given.</param>
/// <param name="Recipient">The recipient.</param>
/// <param name="Subject">The rendered subject.</param>
/// <param name="Status"><c>pending</c>, <c>sending</c>, <c>sent</c>, <c>rejected</c> (refused for good by the provider) or <c>dead</c> (retries exhausted: the dead-letter list).</param>
/// <param name="Attempts">Send attempts so far.</param>
/// <param name="CreatedAt">When it was queued.</param>
/// <param name="NextAttemptAt">When the next attempt is due (pending messages).</param>
/// <param name="SentAt">When the provider took it.</param>
/// <param name="ProviderMessageId">The provider's id, for delivery reports.</param>
/// <param name="LastError">The last failure, as the connector described it.</param>
public sealed record ChannelMessageView(
    string Id,
    string InstanceId,
    string? IdempotencyKey,
    string Recipient,
    string? Subject,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? SentAt,
    string? ProviderMessageId,
    string? LastError);

/// <summary>Thrown by <see cref="IChannelOutbox.EnqueueAsync"/> when a message cannot be queued (a 400 at the API, or a 404 for an unknown instance).</summary>
/// <param name="reason">Why, for the caller.</param>
/// <param name="instanceNotFound">The workspace has no such connector instance.</param>
public sealed class ChannelMessageRejectedException(string reason, bool instanceNotFound = false) : Exception(reason)
{
    /// <summary>The workspace has no such connector instance.</summary>
    public bool InstanceNotFound { get; } = instanceNotFound;
}

/// <summary>
/// The durable outbox every module sends messages through: a message is stored before this returns, then sent by the
/// channel connector with retries and exponential back-off; when the retries are exhausted it lands in the dead-letter
/// list, from where it can be sent again.
/// </summary>
public interface IChannelOutbox
{
    /// <summary>Renders the templates and queues the message; idempotent on <see cref="ChannelMessageRequest.IdempotencyKey"/>.</summary>
    /// <exception cref="ChannelMessageRejectedException">The instance is not a channel of this workspace, or the message or a template is invalid.</exception>
    Task<ChannelMessageView> EnqueueAsync(string workspaceId, string instanceId, ChannelMessageRequest request, CancellationToken cancellationToken = default);
}
