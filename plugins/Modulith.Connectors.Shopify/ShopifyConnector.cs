using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.Connectors.Shopify;

/// <summary>Registers the Shopify platform connector.</summary>
public sealed class ShopifyRegistrar : IConnectorRegistrar
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<IPlatformConnector, ShopifyConnector>();
}

/// <summary>
/// Shopify webhooks: verified with X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body keyed with the app's
/// client secret), mapped by X-Shopify-Topic to normalised events. Webhook bodies are the Admin REST resources
/// without their wrapper. The mandatory privacy topics are acknowledged.
/// </summary>
internal sealed class ShopifyConnector : IPlatformConnector
{

    public Task<WebhookResult> HandleWebhookAsync(InboundWebhook webhook, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        if (!webhook.Headers.TryGetValue("X-Shopify-Hmac-Sha256", out var signature) || !Verify(settings.Required("clientSecret"), webhook.Body.Span, signature))
        {
            return Task.FromResult(WebhookResult.Rejected("X-Shopify-Hmac-Sha256 is missing or does not match the body."));
        }

        var topic = webhook.Headers.GetValueOrDefault("X-Shopify-Topic") ?? string.Empty;
        var delivery = webhook.Headers.GetValueOrDefault("X-Shopify-Event-Id") ?? webhook.Headers.GetValueOrDefault("X-Shopify-Webhook-Id");
        if (topic == "shop/redact")
        {
            // Sent 48 hours after the shop uninstalled the app: the instance's data is removed with the instance.
            return Task.FromResult(new WebhookResult(WebhookOutcome.Acknowledged, delivery, []));
        }

        using var document = JsonDocument.Parse(webhook.Body);
        var root = document.RootElement;
        var shop = settings.Values.GetValueOrDefault("shopDomain");
        IReadOnlyList<ConnectorEvent> events = topic switch
        {
            "orders/create" => OrderEvents(root, ConnectorEventKind.OrderPlaced, shop, withCustomer: true),
            "orders/paid" => OrderEvents(root, ConnectorEventKind.OrderPaid, shop, withCustomer: false),
            "orders/cancelled" => OrderEvents(root, ConnectorEventKind.OrderCancelled, shop, withCustomer: false),
            "refunds/create" => [Refund(root)],
            "checkouts/create" or "checkouts/update" => [Checkout(root, shop)],
            "carts/update" or "carts/create" => [Cart(root)],
            "customers/create" or "customers/update" => [Customer(root, root.Date("updated_at") ?? webhook.ReceivedAt)],
            "customers/redact" => [Privacy(root, ConnectorEventKind.CustomerErasureRequested, delivery, webhook.ReceivedAt)],
            "customers/data_request" => [Privacy(root, ConnectorEventKind.CustomerDataRequested, delivery, webhook.ReceivedAt)],
            _ => [],
        };
        return Task.FromResult(new WebhookResult(events.Count == 0 ? WebhookOutcome.Acknowledged : WebhookOutcome.Accepted, delivery, events));
    }

    public Task<BackfillPage> BackfillAsync(ConnectorSettings settings, string? cursor, CancellationToken cancellationToken) =>
        Task.FromResult(new BackfillPage([], null));

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(settings.Values.ContainsKey("clientSecret") && settings.Values.ContainsKey("shopDomain")
            ? new HealthReport(true, "Webhooks are verified with the configured client secret.")
            : new HealthReport(false, "shopDomain and clientSecret are required."));

    /// <summary>Constant-time comparison of Shopify's signature with the one computed over the raw body.</summary>
    internal static bool Verify(string secret, ReadOnlySpan<byte> body, string signature)
    {
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.Trim()));
    }

    private static List<ConnectorEvent> OrderEvents(JsonElement order, ConnectorEventKind kind, string? shop, bool withCustomer)
    {
        var customer = CustomerOf(order);
        var at = kind switch
        {
            ConnectorEventKind.OrderCancelled => order.Date("cancelled_at"),
            ConnectorEventKind.OrderPaid => order.Date("processed_at") ?? order.Date("updated_at"),
            _ => null,
        } ?? order.Date("created_at") ?? DateTimeOffset.UnixEpoch;
        var properties = new Dictionary<string, object?>
        {
            ["order_id"] = order.Text("id"),
            ["order_number"] = order.Text("name"),
            ["total"] = order.Money("total_price"),
            ["revenue"] = order.Money("total_price"),
            ["subtotal"] = order.Money("subtotal_price"),
            ["tax"] = order.Money("total_tax"),
            ["discount"] = order.Money("total_discounts"),
            ["currency"] = order.Text("currency"),
            ["financial_status"] = order.Text("financial_status"),
            ["products"] = Products(order),
        };
        if (kind == ConnectorEventKind.OrderCancelled)
        {
            properties["reason"] = order.Text("cancel_reason");
        }

        var events = new List<ConnectorEvent>();
        if (withCustomer && order.TryGetProperty("customer", out var profile) && profile.ValueKind == JsonValueKind.Object)
        {
            events.Add(Customer(profile, at, order));
        }

        events.Add(new ConnectorEvent(kind, order.Text("id") ?? Guid.NewGuid().ToString("N"), at, customer, properties,
            Consents: Consent(order, "buyer_accepts_marketing"), Context: Visit(order, shop)));
        return events;
    }

    private static ConnectorEvent Refund(JsonElement refund)
    {
        decimal amount = 0;
        string? currency = null;
        if (refund.TryGetProperty("transactions", out var transactions) && transactions.ValueKind == JsonValueKind.Array)
        {
            foreach (var transaction in transactions.EnumerateArray().Where(t => t.Text("kind") == "refund" && t.Text("status") is null or "success"))
            {
                amount += transaction.Money("amount") ?? 0;
                currency ??= transaction.Text("currency");
            }
        }

        return new ConnectorEvent(ConnectorEventKind.OrderRefunded, refund.Text("id") ?? Guid.NewGuid().ToString("N"), refund.Date("created_at") ?? DateTimeOffset.UnixEpoch,
            new CustomerReference(null, null, null, null) { OrderId = refund.Text("order_id") },
            new Dictionary<string, object?> { ["order_id"] = refund.Text("order_id"), ["total"] = amount, ["currency"] = currency });
    }

    /// <summary>customers/redact and customers/data_request name the customer (id, email, phone) and the orders concerned.</summary>
    private static ConnectorEvent Privacy(JsonElement request, ConnectorEventKind kind, string? delivery, DateTimeOffset receivedAt)
    {
        var customer = request.TryGetProperty("customer", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var reference = customer.ValueKind == JsonValueKind.Object
            ? new CustomerReference(customer.Text("id"), customer.Text("email"), customer.Text("phone"), null)
            : new CustomerReference(null, null, null, null);
        var orders = request.TryGetProperty(kind == ConnectorEventKind.CustomerErasureRequested ? "orders_to_redact" : "orders_requested", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(o => o.ToString()).ToList()
            : [];
        var requestId = request.TryGetProperty("data_request", out var dataRequest) && dataRequest.ValueKind == JsonValueKind.Object ? dataRequest.Text("id") : null;
        return new ConnectorEvent(kind, requestId ?? delivery ?? $"{customer.Text("id")}:{receivedAt.ToUnixTimeSeconds()}", receivedAt, reference,
            new Dictionary<string, object?> { ["orders"] = orders, ["request_id"] = requestId });
    }

    private static ConnectorEvent Checkout(JsonElement checkout, string? shop) =>
        new(ConnectorEventKind.CheckoutStarted, checkout.Text("token") ?? checkout.Text("id") ?? Guid.NewGuid().ToString("N"),
            checkout.Date("created_at") ?? DateTimeOffset.UnixEpoch, CustomerOf(checkout),
            new Dictionary<string, object?>
            {
                ["checkout_id"] = checkout.Text("token"),
                ["value"] = checkout.Money("total_price"),
                ["currency"] = checkout.Text("currency"),
                ["products"] = Products(checkout),
                ["recovery_url"] = checkout.Text("abandoned_checkout_url"),
            },
            Consents: Consent(checkout, "buyer_accepts_marketing"), Context: Visit(checkout, shop));

    private static ConnectorEvent Cart(JsonElement cart) =>
        new(ConnectorEventKind.CartUpdated, $"{cart.Text("token")}:{cart.Text("updated_at")}", cart.Date("updated_at") ?? DateTimeOffset.UnixEpoch,
            new CustomerReference(null, null, null, "cart:" + cart.Text("token")),
            new Dictionary<string, object?> { ["cart_id"] = cart.Text("token"), ["products"] = Products(cart) });

    private static ConnectorEvent Customer(JsonElement customer, DateTimeOffset at, JsonElement? order = null)
    {
        var traits = new Dictionary<string, object?>
        {
            ["firstName"] = customer.Text("first_name"),
            ["lastName"] = customer.Text("last_name"),
            ["email"] = customer.Text("email") ?? (order is { } o ? o.Text("email") : null),
            ["phone"] = customer.Text("phone"),
            ["tags"] = customer.Text("tags"),
            ["verifiedEmail"] = customer.TryGetProperty("verified_email", out var verified) && verified.ValueKind is JsonValueKind.True,
            ["createdAt"] = customer.Text("created_at"),
        };
        var consents = Consent(customer, "accepts_marketing") ?? new Dictionary<string, bool>();
        if (customer.TryGetProperty("email_marketing_consent", out var emailConsent) && emailConsent.ValueKind == JsonValueKind.Object)
        {
            consents["marketing_email"] = emailConsent.Text("state") == "subscribed";
        }

        if (customer.TryGetProperty("sms_marketing_consent", out var smsConsent) && smsConsent.ValueKind == JsonValueKind.Object)
        {
            consents["marketing_sms"] = smsConsent.Text("state") == "subscribed";
        }

        return new ConnectorEvent(ConnectorEventKind.CustomerUpserted, $"{customer.Text("id")}:{customer.Text("updated_at")}", at,
            new CustomerReference(customer.Text("id"), customer.Text("email") ?? (order is { } withEmail ? withEmail.Text("email") : null), customer.Text("phone"), null),
            new Dictionary<string, object?>(), traits, consents.Count == 0 ? null : consents);
    }

    private static CustomerReference CustomerOf(JsonElement resource)
    {
        string? platformId = null;
        string? phone = resource.Text("phone");
        if (resource.TryGetProperty("customer", out var customer) && customer.ValueKind == JsonValueKind.Object)
        {
            platformId = customer.Text("id");
            phone ??= customer.Text("phone");
        }

        return new CustomerReference(platformId, resource.Text("email"), phone, platformId is null ? "cart:" + resource.Text("cart_token") : null);
    }

    private static Dictionary<string, bool>? Consent(JsonElement resource, string property) =>
        resource.TryGetProperty(property, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? new Dictionary<string, bool> { ["marketing_email"] = value.GetBoolean() }
            : null;

    /// <summary>The visit that led to the order: landing site (with its UTM parameters) and referring site.</summary>
    private static Dictionary<string, object?>? Visit(JsonElement resource, string? shop)
    {
        var landing = resource.Text("landing_site");
        var referrer = resource.Text("referring_site");
        if (landing is null && referrer is null)
        {
            return null;
        }

        if (landing is not null && !Uri.TryCreate(landing, UriKind.Absolute, out _))
        {
            landing = $"https://{shop ?? "shop.invalid"}{(landing.StartsWith('/') ? landing : "/" + landing)}";
        }

        return new Dictionary<string, object?> { ["page"] = new Dictionary<string, object?> { ["url"] = landing, ["referrer"] = referrer } };
    }

    private static List<Dictionary<string, object?>> Products(JsonElement resource)
    {
        var products = new List<Dictionary<string, object?>>();
        if (resource.TryGetProperty("line_items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                products.Add(new Dictionary<string, object?>
                {
                    ["product_id"] = item.Text("product_id"),
                    ["variant"] = item.Text("variant_id"),
                    ["sku"] = item.Text("sku"),
                    ["name"] = item.Text("title"),
                    ["price"] = item.Money("price"),
                    ["quantity"] = item.Integer("quantity", 1),
                });
            }
        }

        return products;
    }
}
