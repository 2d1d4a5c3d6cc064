using System.Text.Json;
using Modulith.Customers.Contracts;
using Modulith.Leads.Contracts;
using Modulith.Leads.Scoring;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Grains;

namespace Modulith.Leads.Pipeline;

/// <summary>Turns a customer's applied activity into the lead's input and hands it to the lead's grain.</summary>
internal sealed class LeadActivityObserver(IGrainFactory grains) : ICustomerActivityObserver
{
    private const int MaxProperties = 30;
    private const int MaxValueLength = 500;
    private const int MaxTraits = 100;

    public Task OnActivityAsync(CustomerActivity activity)
    {
        // A customer becomes a lead only as a known contact: until then there is no lead grain at all (docs/adr/0014).
        // The lead's first activity reads the visitor's earlier events back from the event log.
        if (!activity.Snapshot.IsKnownContact)
        {
            return Task.CompletedTask;
        }

        // Mapped before any await: the snapshot's collections belong to the customer's grain.
        var lead = ToLeadActivity(activity);
        return grains.GetGrainByKey<ILeadGrain>($"{activity.WorkspaceId}/{activity.CustomerId}").ObserveAsync(lead);
    }

    internal static LeadActivity ToLeadActivity(CustomerActivity activity)
    {
        var events = new List<ScoredEvent>(activity.Events.Count);
        foreach (var e in activity.Events)
        {
            if (ScoredEventOf(e.MessageId, e.Type, e.Name, e.Timestamp, e.Payload) is { } scored)
            {
                events.Add(scored);
            }
        }

        var snapshot = activity.Snapshot;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["timeOnSiteSeconds"] = snapshot.Metrics.TimeOnSiteSeconds,
            ["sessions"] = snapshot.Metrics.Sessions,
            ["pageViews"] = snapshot.Metrics.PageViews,
            ["productViews"] = snapshot.Metrics.ProductViews,
            ["events"] = snapshot.Metrics.Events,
            ["orders"] = snapshot.Orders.Count,
            ["revenue"] = (double)snapshot.Orders.Revenue,
        };
        var traits = snapshot.Traits.Where(t => t.Value.Length <= 4 * MaxValueLength).Take(MaxTraits).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        var profile = new ProfileFacts(snapshot.HasEmail, snapshot.HasPhone, traits, metrics, new Dictionary<string, bool>(snapshot.Consents, StringComparer.Ordinal));
        var touch = snapshot.FirstTouch;
        var source = touch is null ? null : new LeadSource(touch.Channel, touch.Source ?? ReferrerHost(touch.Referrer), touch.Campaign);
        // The lead's grain reads the customer's earlier events back from the event log when it is activated: it needs to
        // know where to look, and whether there is anything to read. Events applied by drains still under way are not
        // yet attributed in the log; the customer's recent sequences find them.
        var earlierEvents = snapshot.Metrics.Events > activity.Events.Count || snapshot.MergedCustomerIds is { Count: > 0 };
        IReadOnlyList<string>? history = earlierEvents ? [activity.CustomerId, .. snapshot.MergedCustomerIds ?? []] : null;
        IReadOnlyList<long>? recent = earlierEvents ? snapshot.RecentSequences?.ToArray() : null;
        return new LeadActivity(events, profile, source, snapshot.Orders.Count, CountryOf(traits), history, recent);
    }

    /// <summary>An event as scoring sees it, or null for the types scoring does not count (identify, alias, group).</summary>
    internal static ScoredEvent? ScoredEventOf(string messageId, string type, string? eventName, DateTimeOffset timestamp, string payload)
    {
        var name = type switch
        {
            "track" => eventName,
            "page" => "Page Viewed",
            "screen" => "Screen Viewed",
            _ => null,
        };
        return name is null ? null : new ScoredEvent(messageId, SharedStrings.Of(name)!, timestamp, PropertiesOf(payload, type == "track" ? null : eventName));
    }

    private static Dictionary<string, string>? PropertiesOf(string payload, string? pageName)
    {
        using var document = JsonDocument.Parse(payload);
        Dictionary<string, string>? properties = null;
        if (document.RootElement.TryGetProperty("properties", out var values) && values.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in values.EnumerateObject())
            {
                if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null)
                {
                    continue;
                }

                var raw = property.Value.GetRawText();
                if (raw.Length <= MaxValueLength)
                {
                    (properties ??= new Dictionary<string, string>(StringComparer.Ordinal))[SharedStrings.Of(property.Name)!] = raw;
                    if (properties.Count == MaxProperties)
                    {
                        break;
                    }
                }
            }
        }

        if (pageName is not null)
        {
            (properties ??= new Dictionary<string, string>(StringComparer.Ordinal))["name"] = JsonSerializer.Serialize(pageName);
        }

        return properties;
    }

    private static string? CountryOf(Dictionary<string, string> traits)
    {
        if (traits.TryGetValue("country", out var country) && Text(country) is { } direct)
        {
            return direct;
        }

        if (traits.TryGetValue("address", out var address))
        {
            using var document = JsonDocument.Parse(address);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("country", out var nested) && nested.ValueKind == JsonValueKind.String)
            {
                return nested.GetString();
            }
        }

        return null;
    }

    private static string? Text(string raw)
    {
        using var document = JsonDocument.Parse(raw);
        return document.RootElement.ValueKind == JsonValueKind.String ? document.RootElement.GetString() : null;
    }

    private static string? ReferrerHost(string? referrer) =>
        Uri.TryCreate(referrer, UriKind.Absolute, out var uri) ? uri.Host : null;
}

/// <summary>Erases the person's data from the leads of erased profiles.</summary>
internal sealed class LeadErasureObserver(IGrainFactory grains) : ICustomerErasureObserver
{
    public Task OnErasedAsync(string workspaceId, IReadOnlyList<string> customerIds, CancellationToken cancellationToken) =>
        Task.WhenAll(customerIds.Select(id => grains.GetGrainByKey<ILeadGrain>($"{workspaceId}/{id}").EraseAsync()));
}
