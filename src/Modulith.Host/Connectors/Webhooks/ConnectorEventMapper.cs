using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.Connectors.Sdk;

namespace Modulith.Host.Connectors.Webhooks;

/// <summary>Turns a connector's platform facts into Segment-shaped messages (pure).</summary>
internal static class ConnectorEventMapper
{
    private static readonly Dictionary<ConnectorEventKind, string> TrackNames = new()
    {
        [ConnectorEventKind.OrderPlaced] = "Order Completed",
        [ConnectorEventKind.OrderPaid] = "Order Paid",
        [ConnectorEventKind.OrderCancelled] = "Order Cancelled",
        [ConnectorEventKind.OrderRefunded] = "Order Refunded",
        [ConnectorEventKind.CartUpdated] = "Cart Updated",
        [ConnectorEventKind.CheckoutStarted] = "Checkout Started",
        [ConnectorEventKind.CheckoutAbandoned] = "Checkout Abandoned",
        [ConnectorEventKind.ProductViewed] = "Product Viewed",
    };

    /// <summary>
    /// One message per fact. The platform's customer id becomes the anonymousId <c>{connector}:{id}</c> (so it links to
    /// the shop's own userId through the email instead of competing with it); the messageId is derived from the
    /// instance and the fact's id, so a redelivered webhook is deduplicated by the event log.
    /// </summary>
    public static IReadOnlyList<JsonObject> ToSegment(string connectorId, string instanceId, IReadOnlyList<ConnectorEvent> events)
    {
        var messages = new List<JsonObject>(events.Count);
        foreach (var e in events)
        {
            var customer = e.Customer;
            var anonymousId = customer.PlatformId is { Length: > 0 } platformId ? $"{connectorId}:{platformId}" : customer.AnonymousId;
            var traits = ToObject(e.Traits) ?? [];
            if (customer.Email is { Length: > 0 } email)
            {
                traits["email"] ??= email;
            }

            if (customer.Phone is { Length: > 0 } phone)
            {
                traits["phone"] ??= phone;
            }

            var context = ToObject(e.Context) ?? [];
            context["traits"] = traits.DeepClone();
            context["integration"] = new JsonObject { ["name"] = connectorId, ["instance"] = instanceId };
            if (customer.PlatformId is { Length: > 0 })
            {
                context["externalIds"] = new JsonArray(new JsonObject { ["id"] = customer.PlatformId, ["type"] = connectorId + "_customer_id", ["collection"] = "users" });
            }

            if (e.Consents is { Count: > 0 })
            {
                var preferences = new JsonObject();
                foreach (var (purpose, granted) in e.Consents)
                {
                    preferences[purpose] = granted;
                }

                context["consent"] = new JsonObject { ["categoryPreferences"] = preferences };
            }

            var message = new JsonObject
            {
                ["messageId"] = $"{instanceId}:{e.Kind}:{e.Id}",
                ["timestamp"] = e.OccurredAt.ToString("O", CultureInfo.InvariantCulture),
                ["anonymousId"] = anonymousId ?? $"{connectorId}:unknown",
                ["context"] = context,
            };
            if (e.Kind == ConnectorEventKind.CustomerUpserted)
            {
                message["type"] = "identify";
                message["traits"] = traits;
            }
            else
            {
                message["type"] = "track";
                message["event"] = TrackNames[e.Kind];
                message["properties"] = ToObject(e.Properties) ?? [];
            }

            messages.Add(message);
        }

        return messages;
    }

    private static JsonObject? ToObject(IReadOnlyDictionary<string, object?>? values) =>
        values is null ? null : JsonSerializer.SerializeToNode(values) as JsonObject;
}
