using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.Connectors.Sms;

/// <summary>Registers the SMS channel.</summary>
public sealed class SmsRegistrar : IConnectorRegistrar
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<IChannelConnector, SmsChannelConnector>();
}

/// <summary>
/// SMS over an SMSAPI-style HTTP gateway: POST /sms.do with a bearer token; the idempotency key is the client message
/// id (<c>idx</c> with <c>check_idx=1</c>), so the gateway refuses a second send of the same key (error 105, treated as
/// already sent). Delivery reports come back to <c>/webhooks/{instanceId}?token=...</c> (MsgId, status, idx, to,
/// donedate; comma-separated lists for several reports).
/// </summary>
internal sealed class SmsChannelConnector(TimeProvider clock) : IChannelConnector
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(15) };

    public ChannelCapabilities Capabilities { get; } = new("sms", SupportsHtml: false, MaxMessagesPerSecond: 50);

    public async Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        var to = message.Recipient.Trim().TrimStart('+');
        if (to.Length < 8 || !to.All(char.IsAsciiDigit))
        {
            return new DeliveryResult(DeliveryStatus.Rejected, null, "The recipient is not an E.164 phone number.");
        }

        var fields = new Dictionary<string, string>
        {
            ["to"] = to,
            ["message"] = message.TextBody ?? string.Empty,
            ["idx"] = message.IdempotencyKey,
            ["check_idx"] = "1",
            ["format"] = "json",
            ["encoding"] = "utf-8",
        };
        if (settings.Values.GetValueOrDefault("from") is { Length: > 0 } from)
        {
            fields["from"] = from;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Required("apiUrl").TrimEnd('/') + "/sms.do") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Required("token"));
        try
        {
            using var response = await Http.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout)
            {
                return new DeliveryResult(DeliveryStatus.TransientFailure, null, $"HTTP {(int)response.StatusCode}");
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                var code = error.GetInt32();
                var detail = $"Gateway error {code}: {(root.TryGetProperty("message", out var text) ? text.GetString() : null)}";
                // 105: this idx was sent before, so the message is out already.
                return code == 105
                    ? new DeliveryResult(DeliveryStatus.Sent, message.IdempotencyKey, detail)
                    : new DeliveryResult(code is 8 or 201 or 999 ? DeliveryStatus.TransientFailure : DeliveryStatus.Rejected, null, detail);
            }

            var id = root.GetProperty("list")[0].GetProperty("id").GetString();
            return new DeliveryResult(DeliveryStatus.Sent, id, null);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            return new DeliveryResult(DeliveryStatus.TransientFailure, null, exception.Message);
        }
    }

    public Task<DeliveryCallbackResult> HandleCallbackAsync(InboundWebhook callback, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        var token = callback.Query.GetValueOrDefault("token") ?? string.Empty;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(settings.Required("callbackToken"))))
        {
            return Task.FromResult(new DeliveryCallbackResult(WebhookOutcome.Rejected, [], "The callback token is wrong."));
        }

        var values = new Dictionary<string, string>(callback.Query, StringComparer.OrdinalIgnoreCase);
        foreach (var pair in Encoding.UTF8.GetString(callback.Body.Span).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[Uri.UnescapeDataString(pair[..eq])] = Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        }

        string[] Split(string key) => values.GetValueOrDefault(key)?.Split(',') ?? [];
        var ids = Split("MsgId");
        var statuses = Split("status");
        var idx = Split("idx");
        var to = Split("to");
        var done = Split("donedate");
        var events = new List<DeliveryEvent>();
        for (var i = 0; i < ids.Length; i++)
        {
            var kind = statuses.ElementAtOrDefault(i) switch
            {
                "404" => DeliveryEventKind.Delivered,
                "401" or "402" or "405" or "406" or "407" => DeliveryEventKind.Bounced,
                _ => (DeliveryEventKind?)null,
            };
            if (kind is null)
            {
                continue; // queued, sent to the network: not final yet
            }

            var at = long.TryParse(done.ElementAtOrDefault(i), NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix)
                ? DateTimeOffset.FromUnixTimeSeconds(unix)
                : clock.GetUtcNow();
            events.Add(new DeliveryEvent(kind.Value, ids[i], idx.ElementAtOrDefault(i), "+" + to.ElementAtOrDefault(i)?.TrimStart('+'), at, "status " + statuses.ElementAtOrDefault(i)));
        }

        return Task.FromResult(new DeliveryCallbackResult(events.Count == 0 ? WebhookOutcome.Acknowledged : WebhookOutcome.Accepted, events));
    }

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(settings.Values.ContainsKey("token"), "Sending with the configured token."));
}
