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
        [ConnectorEventKind.CustomerDataRequested] = "Personal Data Requested",
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
                message["event"] = TrackNames.TryGetValue(e.Kind, out var name) ? name : throw new ArgumentException($"{e.Kind} facts are not stored as events.", nameof(events));
                message["properties"] = ToObject(e.Properties) ?? [];
            }

            messages.Add(message);
        }

        return messages;
    }

    /// <summary>
    /// Provider reports about sent messages, as track events on the recipient's profile (found through its email or
    /// phone). An unsubscribe also withdraws the channel's marketing consent.
    /// </summary>
    public static IReadOnlyList<JsonObject> DeliveryToSegment(string channel, string instanceId, IReadOnlyList<DeliveryEvent> events)
    {
        var prefix = channel switch
        {
            "email" => "Email",
            "sms" => "SMS",
            _ => char.ToUpperInvariant(channel[0]) + channel[1..],
        };
        var messages = new List<JsonObject>(events.Count);
        foreach (var e in events)
        {
            var name = e.Kind switch
            {
                DeliveryEventKind.Delivered => $"{prefix} Delivered",
                DeliveryEventKind.Opened => $"{prefix} Opened",
                DeliveryEventKind.Clicked => $"{prefix} Link Clicked",
                DeliveryEventKind.Bounced => $"{prefix} Bounced",
                DeliveryEventKind.Complained => $"{prefix} Marked as Spam",
                _ => "Unsubscribed",
            };
            var traits = new JsonObject { [e.Recipient.Contains('@', StringComparison.Ordinal) ? "email" : "phone"] = e.Recipient };
            var context = new JsonObject { ["traits"] = traits, ["integration"] = new JsonObject { ["name"] = channel, ["instance"] = instanceId } };
            if (e.Kind == DeliveryEventKind.Unsubscribed)
            {
                context["consent"] = new JsonObject { ["categoryPreferences"] = new JsonObject { ["marketing_" + channel] = false } };
            }

            messages.Add(new JsonObject
            {
                ["type"] = "track",
                ["event"] = name,
                ["messageId"] = $"{instanceId}:{e.Kind}:{e.ProviderMessageId}",
                ["anonymousId"] = $"{channel}:{e.Recipient}",
                ["timestamp"] = e.OccurredAt.ToString("O", CultureInfo.InvariantCulture),
                ["properties"] = new JsonObject
                {
                    ["channel"] = channel,
                    ["provider_message_id"] = e.ProviderMessageId,
                    ["message_id"] = e.IdempotencyKey,
                    ["detail"] = e.Detail,
                },
                ["context"] = context,
            });
        }

        return messages;
    }

    private static JsonObject? ToObject(IReadOnlyDictionary<string, object?>? values) =>
        values is null ? null : JsonSerializer.SerializeToNode(values) as JsonObject;
}
