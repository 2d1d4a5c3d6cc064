using System.Globalization;
using System.Text.Json;
using Modulith.Customers.Contracts;

namespace Modulith.Segmentation.Orders;

/// <summary>Records every <c>Order Completed</c> applied to a profile in the order history (idempotent: keyed by order id).</summary>
internal sealed class OrderHistoryObserver(OrderHistoryStore store) : ICustomerActivityObserver
{
    public const string OrderCompleted = "Order Completed";

    public Task OnActivityAsync(CustomerActivity activity)
    {
        List<OrderRow>? orders = null;
        foreach (var e in activity.Events)
        {
            if (e.Type == "track" && e.Name == OrderCompleted && ToOrder(activity.CustomerId, e) is { } order)
            {
                (orders ??= []).Add(order);
            }
        }

        return orders is null ? Task.CompletedTask : store.UpsertAsync(activity.WorkspaceId, orders);
    }

    /// <summary>The order an event reports: amount from revenue, total, value or the products, as the customer view counts it.</summary>
    internal static OrderRow? ToOrder(string customerId, ActivityEvent e)
    {
        using var document = JsonDocument.Parse(e.Payload);
        var root = document.RootElement;
        var properties = root.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        string? Text(string name) =>
            properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var v)
                ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
                : null;
        double? Number(string name) =>
            Text(name) is { } raw && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

        var amount = Number("revenue") ?? Number("total") ?? Number("value") ?? ProductsTotal(properties);
        if (amount is null)
        {
            return null;
        }

        var orderId = Text("order_id") ?? Text("orderId") ?? Text("checkout_id");
        var importId = root.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object
            && context.TryGetProperty("import", out var import) && import.ValueKind == JsonValueKind.Object
            && import.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        return new OrderRow(orderId is null ? "msg:" + e.MessageId : "order:" + orderId, customerId, e.Timestamp, amount.Value, Number("margin"),
            Text("currency")?.ToUpperInvariant(), importId);
    }

    private static double? ProductsTotal(JsonElement properties)
    {
        if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty("products", out var products) || products.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        double? sum = null;
        foreach (var product in products.EnumerateArray())
        {
            if (product.ValueKind == JsonValueKind.Object && product.TryGetProperty("price", out var price) && price.TryGetDouble(out var each))
            {
                var quantity = product.TryGetProperty("quantity", out var q) && q.TryGetDouble(out var n) ? n : 1;
                sum = (sum ?? 0) + each * quantity;
            }
        }

        return sum;
    }
}
