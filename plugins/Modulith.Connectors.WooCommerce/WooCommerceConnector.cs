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
            next = Text(order, "date_modified_gmt") ?? next;
        }

        return new BackfillPage(events, next);
    }

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(settings.Values.ContainsKey("webhookSecret"), "Webhooks are verified with the webhook secret."));

    private static List<ConnectorEvent> OrderEvents(JsonElement order)
    {
        var id = Text(order, "id") ?? Guid.NewGuid().ToString("N");
        var customer = CustomerOf(order);
        var created = DateOf(order, "date_created_gmt") ?? DateTimeOffset.UnixEpoch;
        var properties = new Dictionary<string, object?>
        {
            ["order_id"] = id,
            ["total"] = Money(order, "total"),
            ["revenue"] = Money(order, "total"),
            ["tax"] = Money(order, "total_tax"),
            ["shipping"] = Money(order, "shipping_total"),
            ["discount"] = Money(order, "discount_total"),
            ["currency"] = Text(order, "currency"),
            ["status"] = Text(order, "status"),
            ["products"] = Products(order),
        };
        var events = new List<ConnectorEvent>
        {
            new(ConnectorEventKind.CustomerUpserted, "order-billing-" + id, created, customer, new Dictionary<string, object?>(), Traits(order)),
            new(ConnectorEventKind.OrderPlaced, id, created, customer, properties),
        };
        var modified = DateOf(order, "date_modified_gmt") ?? created;
        switch (Text(order, "status"))
        {
            case "processing" or "completed":
                events.Add(new ConnectorEvent(ConnectorEventKind.OrderPaid, id, DateOf(order, "date_paid_gmt") ?? modified, customer, properties));
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
        new(ConnectorEventKind.CustomerUpserted, $"{Text(customer, "id")}:{Text(customer, "date_modified_gmt")}", DateOf(customer, "date_modified_gmt") ?? DateOf(customer, "date_created_gmt") ?? DateTimeOffset.UnixEpoch,
            new CustomerReference(Text(customer, "id"), Text(customer, "email"), null, null),
            new Dictionary<string, object?>(),
            new Dictionary<string, object?> { ["firstName"] = Text(customer, "first_name"), ["lastName"] = Text(customer, "last_name"), ["email"] = Text(customer, "email") });

    private static CustomerReference CustomerOf(JsonElement order)
    {
        var billing = order.TryGetProperty("billing", out var b) && b.ValueKind == JsonValueKind.Object ? b : default;
        var customerId = Text(order, "customer_id") is { } id && id != "0" ? id : null;
        return new CustomerReference(customerId,
            billing.ValueKind == JsonValueKind.Object ? Text(billing, "email") : null,
            billing.ValueKind == JsonValueKind.Object ? Text(billing, "phone") : null,
            customerId is null ? "order:" + Text(order, "order_key") : null);
    }

    private static Dictionary<string, object?> Traits(JsonElement order)
    {
        if (!order.TryGetProperty("billing", out var billing) || billing.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        return new Dictionary<string, object?>
        {
            ["firstName"] = Text(billing, "first_name"),
            ["lastName"] = Text(billing, "last_name"),
            ["email"] = Text(billing, "email"),
            ["phone"] = Text(billing, "phone"),
            ["city"] = Text(billing, "city"),
            ["country"] = Text(billing, "country"),
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
                    ["product_id"] = Text(item, "product_id"),
                    ["sku"] = Text(item, "sku"),
                    ["name"] = Text(item, "name"),
                    ["price"] = Money(item, "price"),
                    ["quantity"] = item.TryGetProperty("quantity", out var quantity) && quantity.ValueKind == JsonValueKind.Number ? quantity.GetInt32() : 1,
                });
            }
        }

        return products;
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : null,
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static decimal? Money(JsonElement element, string property) =>
        Text(element, property) is { } text && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) ? amount : null;

    /// <summary>WooCommerce's *_gmt dates carry no offset: they are UTC.</summary>
    private static DateTimeOffset? DateOf(JsonElement element, string property) =>
        Text(element, property) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
}
