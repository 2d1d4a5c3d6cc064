using System.Text.Json;
using HandlebarsDotNet;
using Modulith.Connectors.Sdk;
using Modulith.Customers.Contracts;
using Modulith.Host.Connectors.Instances;
using Modulith.SharedKernel.Messaging;

namespace Modulith.Host.Connectors.Messaging;

/// <summary>Outbox settings (<c>Modulith:Messaging</c>).</summary>
public sealed class MessagingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Messaging";

    /// <summary>The wait before the first retry; each further retry waits twice as long (with 20 % jitter).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts before a message goes to the dead-letter list.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How often the dispatcher looks for due retries when nothing new was queued.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a silo holds a claimed message before another silo may take it over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>Validates, renders and queues messages; the dispatcher sends them.</summary>
internal sealed class ChannelOutbox(
    ConnectorInstanceStore instances,
    PluginCatalog catalog,
    OutboxStore store,
    MessageTemplates templates,
    ICustomerDirectory customers,
    OutboxSignal signal,
    TimeProvider clock) : IChannelOutbox
{
    private const int MaxBodyChars = 256 * 1024;
    private static readonly JsonSerializerOptions ProfileJson = new(JsonSerializerDefaults.Web);

    public async Task<ChannelMessageView> EnqueueAsync(string workspaceId, string instanceId, ChannelMessageRequest request, CancellationToken cancellationToken = default)
    {
        var connectorId = ConnectorInstanceStore.IsValidId(instanceId) ? await instances.ConnectorOfAsync(instanceId, workspaceId, cancellationToken) : null;
        if (connectorId is null)
        {
            throw new ChannelMessageRejectedException($"No connector instance '{instanceId}' in this workspace.", instanceNotFound: true);
        }

        var plugin = catalog.Plugins.FirstOrDefault(p => p.Manifest?.Id == connectorId);
        if (plugin?.Manifest?.Kind != ConnectorKind.Channel)
        {
            throw new ChannelMessageRejectedException($"The instance '{instanceId}' is not a channel connector; only channels send messages.");
        }

        var recipient = request.Recipient?.Trim();
        if (string.IsNullOrEmpty(recipient) || recipient.Length > 320)
        {
            throw new ChannelMessageRejectedException("'recipient' is required (at most 320 characters).");
        }

        if (string.IsNullOrEmpty(request.Text) && string.IsNullOrEmpty(request.Html))
        {
            throw new ChannelMessageRejectedException("A message needs a 'text' or an 'html' body (or both).");
        }

        if (plugin.Channel is { Capabilities.SupportsHtml: false } && string.IsNullOrEmpty(request.Text))
        {
            throw new ChannelMessageRejectedException($"The {plugin.Channel.Capabilities.Channel} channel sends text only: give a 'text' body.");
        }

        if ((request.Subject?.Length ?? 0) > 1000 || (request.Text?.Length ?? 0) + (request.Html?.Length ?? 0) > MaxBodyChars)
        {
            throw new ChannelMessageRejectedException("The subject is limited to 1,000 characters and the bodies to 256 KB together.");
        }

        if (request.IdempotencyKey is { } key && (key.Length is 0 or > 200))
        {
            throw new ChannelMessageRejectedException("'idempotencyKey' must be 1-200 characters.");
        }

        if (request.Headers is { Count: > 20 })
        {
            throw new ChannelMessageRejectedException("At most 20 headers.");
        }

        if (request.Data is { } data && data.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            throw new ChannelMessageRejectedException("'data' must be a JSON object.");
        }

        var context = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (request.Data is { ValueKind: JsonValueKind.Object } values)
        {
            foreach (var property in values.EnumerateObject())
            {
                context[property.Name] = property.Value;
            }
        }

        context["recipient"] = recipient;
        if (request.CustomerId is { } customerId)
        {
            var profile = await customers.GetProfileAsync(workspaceId, customerId, cancellationToken)
                ?? throw new ChannelMessageRejectedException($"No customer '{customerId}' in this workspace.");
            context["customer"] = JsonSerializer.SerializeToElement(profile, ProfileJson);
        }

        string? subject, text, html;
        try
        {
            subject = templates.Render(request.Subject, html: false, context);
            text = templates.Render(request.Text, html: false, context);
            html = templates.Render(request.Html, html: true, context);
        }
        catch (Exception exception) when (exception is TemplateException or HandlebarsException)
        {
            throw new ChannelMessageRejectedException($"A template is not valid Handlebars: {exception.Message}");
        }

        var message = new StoredMessage(
            OutboxStore.NewId(clock.GetUtcNow()), workspaceId, instanceId, request.IdempotencyKey, recipient, subject, text, html,
            request.Headers, request.Transactional, 0);
        var stored = await store.AddAsync(message, cancellationToken);
        signal.Wake();
        return stored;
    }
}

/// <summary>Wakes the dispatcher when a message is queued, so a send does not wait for the next poll.</summary>
internal sealed class OutboxSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Wake()
    {
        try
        {
            _semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the dispatcher will look once more, which covers this message too.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _semaphore.Dispose();
}
