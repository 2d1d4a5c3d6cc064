using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.TestPlugins.Platform;

public sealed class Registrar : IConnectorRegistrar
{
    public void Register(IServiceCollection services) => services.AddSingleton<IPlatformConnector, Connector>();
}

/// <summary>
/// A minimal platform: X-Test-Signature is the base64 HMAC-SHA256 of the body keyed with the secret; the body is
/// {"deliveryId","orders":[{"id","customerId","email","total","currency"}]}; X-Test-Ping acknowledges; X-Test-Sleep hangs.
/// </summary>
internal sealed class Connector : IPlatformConnector
{
    public async Task<WebhookResult> HandleWebhookAsync(InboundWebhook webhook, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        if (webhook.Headers.ContainsKey("X-Test-Sleep"))
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
        }

        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(settings.Required("secret")), webhook.Body.Span));
        if (!webhook.Headers.TryGetValue("X-Test-Signature", out var signature) ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(signature), Encoding.UTF8.GetBytes(expected)))
        {
            return WebhookResult.Rejected("The X-Test-Signature header does not match the body.");
        }

        if (webhook.Headers.ContainsKey("X-Test-Ping"))
        {
            return new WebhookResult(WebhookOutcome.Acknowledged, null, []);
        }

        using var document = JsonDocument.Parse(webhook.Body);
        var delivery = document.RootElement.GetProperty("deliveryId").GetString();
        var events = new List<ConnectorEvent>();
        foreach (var order in document.RootElement.GetProperty("orders").EnumerateArray())
        {
            var customer = new CustomerReference(order.GetProperty("customerId").GetString(), order.GetProperty("email").GetString(), null, null);
            var id = order.GetProperty("id").GetString()!;
            events.Add(new ConnectorEvent(ConnectorEventKind.CustomerUpserted, "c-" + id, webhook.ReceivedAt, customer, new Dictionary<string, object?>(),
                Consents: new Dictionary<string, bool> { ["marketing_email"] = true }));
            events.Add(new ConnectorEvent(ConnectorEventKind.OrderPlaced, id, webhook.ReceivedAt, customer, new Dictionary<string, object?>
            {
                ["order_id"] = id,
                ["total"] = order.GetProperty("total").GetDecimal(),
                ["currency"] = order.GetProperty("currency").GetString(),
            }));
        }

        return new WebhookResult(WebhookOutcome.Accepted, delivery, events);
    }

    public Task<BackfillPage> BackfillAsync(ConnectorSettings settings, string? cursor, CancellationToken cancellationToken) =>
        Task.FromResult(new BackfillPage([], null));

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(true, "test"));
}
