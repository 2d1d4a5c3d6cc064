using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.Connectors.WooCommerce;

/// <summary>Registers the WooCommerce platform connector.</summary>
public sealed class WooCommerceRegistrar : IConnectorRegistrar
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<IPlatformConnector, WooCommerceConnector>();
}

/// <summary>
/// WooCommerce: webhooks verified with X-WC-Webhook-Signature (base64 HMAC-SHA256 of the raw body with the webhook
/// secret); the unsigned ping sent when a webhook is created is acknowledged. WooCommerce does not retry and disables a
/// webhook after repeated failures, so reconciliation polls the REST API v3 for orders modified after a cursor.
/// </summary>
internal sealed class WooCommerceConnector : IPlatformConnector
{
    private const int PageSize = 100;
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(20) };

    public Task<WebhookResult> HandleWebhookAsync(InboundWebhook webhook, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        if (!webhook.Headers.TryGetValue("X-WC-Webhook-Signature", out var signature))
        {
            // The ping WooCommerce sends when a webhook is created: a form body webhook_id=N, unsigned. Nothing is stored.
            var body = Encoding.UTF8.GetString(webhook.Body.Span);
            return Task.FromResult(body.StartsWith("webhook_id=", StringComparison.Ordinal) && body.Length < 40
                ? new WebhookResult(WebhookOutcome.Acknowledged, null, [])
                : WebhookResult.Rejected("X-WC-Webhook-Signature is missing."));
        }

        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(settings.Required("webhookSecret")), webhook.Body.Span));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.Trim())))
        {
            return Task.FromResult(WebhookResult.Rejected("X-WC-Webhook-Signature does not match the body."));
        }

        var topic = webhook.Headers.GetValueOrDefault("X-WC-Webhook-Topic") ?? string.Empty;
        var delivery = webhook.Headers.GetValueOrDefault("X-WC-Webhook-Delivery-ID");
        using var document = JsonDocument.Parse(webhook.Body);
        var events = topic switch
        {
            "order.created" or "order.updated" => OrderEvents(document.RootElement),
            "customer.created" or "customer.updated" => [Customer(document.RootElement)],
            _ => [],
        };
        return Task.FromResult(new WebhookResult(events.Count == 0 ? WebhookOutcome.Acknowledged : WebhookOutcome.Accepted, delivery, events));
    }

    /// <summary>Orders modified after the cursor (an ISO 8601 GMT time), oldest first; the answer's cursor is the last modification seen.</summary>
    public async Task<BackfillPage> BackfillAsync(ConnectorSettings settings, string? cursor, CancellationToken cancellationToken)
    {
        var query = $"orderby=modified&order=asc&per_page={PageSize}&dates_are_gmt=true" + (cursor is null ? string.Empty : "&modified_after=" + Uri.EscapeDataString(cursor));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{settings.Required("storeUrl").TrimEnd('/')}/wp-json/wc/v3/orders?{query}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.Required("consumerKey")}:{settings.Required("consumerSecret")}")));
        using var response = await Http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var events = new List<ConnectorEvent>();
        var next = cursor;
        foreach (var order in document.RootElement.EnumerateArray())
        {
            events.AddRange(OrderEvents(order));
            next = order.Text("date_modified_gmt") ?? next;
        }

        return new BackfillPage(events, next);
    }

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(settings.Values.ContainsKey("webhookSecret"), "Webhooks are verified with the webhook secret."));

    private static List<ConnectorEvent> OrderEvents(JsonElement order)
    {
        var id = order.Text("id") ?? Guid.NewGuid().ToString("N");
        var customer = CustomerOf(order);
        var created = order.Date("date_created_gmt", assumeUtc: true) ?? DateTimeOffset.UnixEpoch;
        var properties = new Dictionary<string, object?>
        {
            ["order_id"] = id,
            ["total"] = order.Money("total"),
            ["revenue"] = order.Money("total"),
            ["tax"] = order.Money("total_tax"),
            ["shipping"] = order.Money("shipping_total"),
            ["discount"] = order.Money("discount_total"),
            ["currency"] = order.Text("currency"),
            ["status"] = order.Text("status"),
            ["products"] = Products(order),
        };
        var events = new List<ConnectorEvent>
        {
            new(ConnectorEventKind.CustomerUpserted, "order-billing-" + id, created, customer, new Dictionary<string, object?>(), Traits(order)),
            new(ConnectorEventKind.OrderPlaced, id, created, customer, properties),
        };
        var modified = order.Date("date_modified_gmt", assumeUtc: true) ?? created;
        switch (order.Text("status"))
        {
            case "processing" or "completed":
                events.Add(new ConnectorEvent(ConnectorEventKind.OrderPaid, id, order.Date("date_paid_gmt", assumeUtc: true) ?? modified, customer, properties));
                break;
            case "cancelled":
                events.Add(new ConnectorEvent(ConnectorEventKind.OrderCancelled, id, modified, customer, properties));
                break;
            case "refunded":
                events.Add(new ConnectorEvent(ConnectorEventKind.OrderRefunded, id, modified, customer, properties));
                break;
        }

        return events;
    }

    private static ConnectorEvent Customer(JsonElement customer) =>
        new(ConnectorEventKind.CustomerUpserted, $"{customer.Text("id")}:{customer.Text("date_modified_gmt")}", customer.Date("date_modified_gmt", assumeUtc: true) ?? customer.Date("date_created_gmt", assumeUtc: true) ?? DateTimeOffset.UnixEpoch,
            new CustomerReference(customer.Text("id"), customer.Text("email"), null, null),
            new Dictionary<string, object?>(),
            new Dictionary<string, object?> { ["firstName"] = customer.Text("first_name"), ["lastName"] = customer.Text("last_name"), ["email"] = customer.Text("email") });

    private static CustomerReference CustomerOf(JsonElement order)
    {
        var billing = order.TryGetProperty("billing", out var b) && b.ValueKind == JsonValueKind.Object ? b : default;
        var customerId = order.Text("customer_id") is { } id && id != "0" ? id : null;
        return new CustomerReference(customerId,
            billing.ValueKind == JsonValueKind.Object ? billing.Text("email") : null,
            billing.ValueKind == JsonValueKind.Object ? billing.Text("phone") : null,
            customerId is null ? "order:" + order.Text("order_key") : null);
    }

    private static Dictionary<string, object?> Traits(JsonElement order)
    {
        if (!order.TryGetProperty("billing", out var billing) || billing.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        return new Dictionary<string, object?>
        {
            ["firstName"] = billing.Text("first_name"),
            ["lastName"] = billing.Text("last_name"),
            ["email"] = billing.Text("email"),
            ["phone"] = billing.Text("phone"),
            ["city"] = billing.Text("city"),
            ["country"] = billing.Text("country"),
        };
    }

    private static List<Dictionary<string, object?>> Products(JsonElement order)
    {
        var products = new List<Dictionary<string, object?>>();
        if (order.TryGetProperty("line_items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                products.Add(new Dictionary<string, object?>
                {
                    ["product_id"] = item.Text("product_id"),
                    ["sku"] = item.Text("sku"),
                    ["name"] = item.Text("name"),
                    ["price"] = item.Money("price"),
                    ["quantity"] = item.Integer("quantity", 1),
                });
            }
        }

        return products;
    }
}
