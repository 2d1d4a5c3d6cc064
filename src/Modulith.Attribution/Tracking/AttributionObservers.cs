using System.Text.Json.Nodes;
using Modulith.Attribution.Storage;
using Modulith.Customers.Contracts;
using Modulith.Leads.Contracts;

namespace Modulith.Attribution.Tracking;

/// <summary>Records marketing touches (visits with their source) and orders as conversions, from every applied activity (idempotent: keyed by message and order id).</summary>
internal sealed class TouchObserver(AttributionStore store) : ICustomerActivityObserver
{
    public async Task OnActivityAsync(CustomerActivity activity)
    {
        List<NewTouch>? touches = null;
        List<StoredConversion>? orders = null;
        foreach (var e in activity.Events)
        {
            if (e.Touchpoint is { } t)
            {
                (touches ??= []).Add(new NewTouch(activity.WorkspaceId, "msg:" + e.MessageId, activity.CustomerId, t.At, t.Channel, t.Source ?? ReferrerHost(t.Referrer), t.Medium, t.Campaign, "marketing"));
            }

            if (e.Type == "track" && e.Name == "Order Completed")
            {
                var properties = (JsonNode.Parse(e.Payload) as JsonObject)?["properties"] as JsonObject;
                if (OrderFacts.Amount(properties) is { } amount)
                {
                    var orderId = OrderFacts.OrderId(properties);
                    (orders ??= []).Add(new StoredConversion(orderId is null ? "order:msg:" + e.MessageId : "order:" + orderId, activity.CustomerId, "order", e.Timestamp,
                        (double)amount, OrderFacts.Money(properties?["margin"]) is { } margin ? (double)margin : null));
                }
            }
        }

        if (touches is not null)
        {
            await store.AddTouchesAsync(touches);
        }

        if (orders is not null)
        {
            await store.AddConversionsAsync(activity.WorkspaceId, orders);
        }
    }

    private static string? ReferrerHost(string? referrer) => Uri.TryCreate(referrer, UriKind.Absolute, out var uri) ? uri.Host : null;
}

/// <summary>Sales contacts are touches of the <c>sales</c> channel; MQL and SQL are funnel conversions.</summary>
internal sealed class SalesTouchObserver(AttributionStore store) : ILeadEventObserver
{
    public const string Sales = "sales";

    public async Task OnLeadEventAsync(LeadEvent leadEvent)
    {
        switch (leadEvent.Kind)
        {
            case "contacted":
                var touchId = $"sales:{leadEvent.LeadId}:{leadEvent.At.ToUnixTimeMilliseconds()}";
                await store.AddTouchesAsync([new NewTouch(leadEvent.WorkspaceId, touchId, leadEvent.LeadId, leadEvent.At, Sales, leadEvent.Detail, null, null, Sales)]);
                break;
            case "stage_changed" when leadEvent.Stage is LeadStages.Mql or LeadStages.Sql:
                var kind = leadEvent.Stage == LeadStages.Mql ? "mql" : "sql";
                await store.AddConversionsAsync(leadEvent.WorkspaceId, [new StoredConversion($"{kind}:{leadEvent.LeadId}", leadEvent.LeadId, kind, leadEvent.At, 0, null)]);
                break;
        }
    }
}
