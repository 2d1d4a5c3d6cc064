using System.Text.Json.Nodes;
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

    /// <summary>The order an event reports, read by the customer view's rule (<see cref="OrderFacts"/>); null without an amount.</summary>
    internal static OrderRow? ToOrder(string customerId, ActivityEvent e)
    {
        var root = JsonNode.Parse(e.Payload) as JsonObject;
        var properties = root?["properties"] as JsonObject;
        if (OrderFacts.Amount(properties) is not { } amount)
        {
            return null;
        }

        var orderId = OrderFacts.OrderId(properties);
        var importId = ((root?["context"] as JsonObject)?["import"] as JsonObject)?["id"] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;
        return new OrderRow(orderId is null ? "msg:" + e.MessageId : "order:" + orderId, customerId, e.Timestamp, (double)amount,
            OrderFacts.Money(properties?["margin"]) is { } margin ? (double)margin : null, OrderFacts.Currency(properties), importId);
    }
}
