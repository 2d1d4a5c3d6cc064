using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Modulith.Connectors.Sdk;

namespace Modulith.Connectors.Webhook;

/// <summary>Registers the outbound webhook channel.</summary>
public sealed class WebhookRegistrar : IConnectorRegistrar
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<IChannelConnector, WebhookChannelConnector>();
}

/// <summary>
/// Sends each message as a signed JSON POST in the Standard Webhooks style: <c>webhook-id</c> (the idempotency key, so
/// receivers can deduplicate retries), <c>webhook-timestamp</c> and <c>webhook-signature</c> (<c>v1,</c> and the base64
/// HMAC-SHA256 of <c>id.timestamp.body</c> keyed with the decoded secret).
/// </summary>
internal sealed class WebhookChannelConnector(TimeProvider clock, ILogger<WebhookChannelConnector> logger) : IChannelConnector
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(10) };

    public ChannelCapabilities Capabilities { get; } = new("webhook", SupportsHtml: true, MaxMessagesPerSecond: 100);

    public async Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        var url = settings.Required("url");
        var body = JsonSerializer.Serialize(new
        {
            type = "message",
            id = message.IdempotencyKey,
            recipient = message.Recipient,
            subject = message.Subject,
            text = message.TextBody,
            html = message.HtmlBody,
            headers = message.Headers,
            transactional = message.Transactional,
        });
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", message.IdempotencyKey);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Sign(settings.Required("secret"), message.IdempotencyKey, timestamp, body));
        try
        {
            using var response = await Http.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new DeliveryResult(DeliveryStatus.Sent, message.IdempotencyKey, $"HTTP {status}");
            }

            var transient = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
            return new DeliveryResult(transient ? DeliveryStatus.TransientFailure : DeliveryStatus.Rejected, null, $"HTTP {status}");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            logger.LogWarning("Webhook delivery {MessageId} failed: {Error}", message.IdempotencyKey, exception.Message);
            return new DeliveryResult(DeliveryStatus.TransientFailure, null, exception.Message);
        }
    }

    public async Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(settings.Values.GetValueOrDefault("url"), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return new HealthReport(false, "The url setting is not an absolute http(s) URL.");
        }

        try
        {
            _ = KeyOf(settings.Required("secret"));
        }
        catch (FormatException)
        {
            return new HealthReport(false, "The secret is not in the whsec_<base64> form.");
        }

        await Task.CompletedTask;
        return new HealthReport(true, $"Posting to {url.Host}.");
    }

    /// <summary>The Standard Webhooks signature of a message.</summary>
    public static string Sign(string secret, string id, string timestamp, string body)
    {
        var signature = HMACSHA256.HashData(KeyOf(secret), Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(signature);
    }

    private static byte[] KeyOf(string secret) =>
        Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
}
