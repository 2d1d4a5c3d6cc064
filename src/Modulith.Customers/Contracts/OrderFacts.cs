using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Modulith.Customers.Contracts;

/// <summary>
/// How an order event's properties are read, one rule for every module, so the customer view, the order history and
/// the value models count the same orders with the same amounts.
/// </summary>
public static class OrderFacts
{
    /// <summary>The order's id: <c>order_id</c>, else <c>orderId</c>, else <c>checkout_id</c>.</summary>
    public static string? OrderId(JsonObject? properties) =>
        Text(properties?["order_id"]) ?? Text(properties?["orderId"]) ?? Text(properties?["checkout_id"]);

    /// <summary>The order's amount: <c>revenue</c>, else <c>total</c>, else <c>value</c>, else the sum of <c>products[].price × quantity</c>; null when none is given.</summary>
    public static decimal? Amount(JsonObject? properties) =>
        Money(properties?["revenue"]) ?? Money(properties?["total"]) ?? Money(properties?["value"]) ?? SumProducts(properties?["products"] as JsonArray);

    /// <summary>A refund's amount: <c>total</c>, else <c>revenue</c>, else <c>value</c>.</summary>
    public static decimal? RefundAmount(JsonObject? properties) =>
        Money(properties?["total"]) ?? Money(properties?["revenue"]) ?? Money(properties?["value"]);

    /// <summary>The upper-cased <c>currency</c>.</summary>
    public static string? Currency(JsonObject? properties) => Text(properties?["currency"])?.ToUpperInvariant();

    /// <summary>A number given as a JSON number or a numeric string.</summary>
    public static decimal? Money(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Number => node.GetValue<decimal>(),
        JsonValueKind.String when decimal.TryParse(node.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static decimal? SumProducts(JsonArray? products)
    {
        if (products is null)
        {
            return null;
        }

        decimal sum = 0;
        foreach (var product in products.OfType<JsonObject>())
        {
            sum += (Money(product["price"]) ?? 0) * (Money(product["quantity"]) ?? 1);
        }

        return sum;
    }

    private static string? Text(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>() is { Length: > 0 } text ? text : null,
        JsonValueKind.Number => node.ToJsonString(),
        _ => null,
    };
}
