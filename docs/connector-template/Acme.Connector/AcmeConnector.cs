using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Modulith.Connectors.Sdk;

namespace Acme.Connector;

/// <summary>The plugin's entry point: Modulith creates it and calls Register once at start.</summary>
public sealed class AcmeRegistrar : IConnectorRegistrar
{
    public void Register(IServiceCollection services) => services.AddSingleton<IPlatformConnector, AcmeConnector>();
}

/// <summary>
/// A complete small platform connector. Acme posts {"id","type":"order.created","order":{"id","email","total","currency"}}
/// and signs the raw body with HMAC-SHA256 (hex) in X-Acme-Signature.
/// </summary>
internal sealed class AcmeConnector(ILogger<AcmeConnector> logger) : IPlatformConnector
{
    public Task<WebhookResult> HandleWebhookAsync(InboundWebhook webhook, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(settings.Required("signingSecret")), webhook.Body.Span));
        if (!webhook.Headers.TryGetValue("X-Acme-Signature", out var signature) ||
            !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return Task.FromResult(WebhookResult.Rejected("X-Acme-Signature does not match the body."));
        }

        using var document = JsonDocument.Parse(webhook.Body);
        var root = document.RootElement;
        if (root.GetProperty("type").GetString() != "order.created")
        {
            logger.LogDebug("Ignoring Acme event {Type}", root.GetProperty("type").GetString());
            return Task.FromResult(new WebhookResult(WebhookOutcome.Acknowledged, null, []));
        }

        var order = root.GetProperty("order");
        var placed = new ConnectorEvent(
            ConnectorEventKind.OrderPlaced,
            order.GetProperty("id").GetString()!,
            webhook.ReceivedAt,
            new CustomerReference(null, order.GetProperty("email").GetString(), null, null),
            new Dictionary<string, object?>
            {
                ["order_id"] = order.GetProperty("id").GetString(),
                ["total"] = order.GetProperty("total").GetDecimal(),
                ["currency"] = order.GetProperty("currency").GetString(),
            });
        return Task.FromResult(new WebhookResult(WebhookOutcome.Accepted, root.GetProperty("id").GetString(), [placed]));
    }

    public Task<BackfillPage> BackfillAsync(ConnectorSettings settings, string? cursor, CancellationToken cancellationToken) =>
        Task.FromResult(new BackfillPage([], null));

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(settings.Values.ContainsKey("signingSecret"), "Acme webhooks are verified with the signing secret."));
}
