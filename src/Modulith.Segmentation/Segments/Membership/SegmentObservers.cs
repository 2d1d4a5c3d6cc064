using System.Text.Json;
using Modulith.Customers.Contracts;
using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Grains;

namespace Modulith.Segmentation.Segments.Membership;

/// <summary>Hands every applied activity to the customer's segment grain with the facts rules read and the events that count.</summary>
internal sealed class SegmentActivityObserver(IGrainFactory grains, SegmentCatalog catalog, ILeadDirectory leads, TimeProvider clock) : ICustomerActivityObserver
{
    public async Task OnActivityAsync(CustomerActivity activity)
    {
        // Mapped before any await: the snapshot's collections belong to the customer's grain.
        var facts = new CustomerFacts();
        facts.Update(activity.Snapshot);
        string? connector = null;
        foreach (var e in activity.Events)
        {
            if (connector is null && e.Payload.Contains("\"integration\"", StringComparison.Ordinal))
            {
                connector = ConnectorOf(e.Payload);
            }
        }

        var set = await catalog.GetAsync(activity.WorkspaceId);
        var hits = new List<CountedHit>();
        var now = clock.GetUtcNow();
        foreach (var condition in set.CountedEvents.Values)
        {
            foreach (var e in activity.Events)
            {
                if (e.Timestamp > now - condition.Within && EventMatcher.Matches(condition, e.Type, e.Name, e.Payload))
                {
                    hits.Add(new CountedHit(condition.Key, e.MessageId, e.Timestamp));
                }
            }
        }

        var lead = await leads.GetStatusAsync(activity.WorkspaceId, activity.CustomerId, activity.Snapshot.IsKnownContact);
        facts.LeadStage = lead.Stage;
        facts.LeadScore = lead.Score;
        await grains.GetGrainByKey<ICustomerSegmentsGrain>($"{activity.WorkspaceId}/{activity.CustomerId}").ObserveAsync(new SegmentInput(facts, hits, connector));
    }

    private static string? ConnectorOf(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        return document.RootElement.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object &&
            context.TryGetProperty("integration", out var integration) && integration.ValueKind == JsonValueKind.Object &&
            integration.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;
    }
}

/// <summary>Sales feedback and SLA actions move a lead's stage without customer activity; segments on the stage follow.</summary>
internal sealed class SegmentLeadObserver(IGrainFactory grains) : ILeadEventObserver
{
    public Task OnLeadEventAsync(LeadEvent leadEvent) => leadEvent.Kind == "stage_changed"
        ? grains.GetGrainByKey<ICustomerSegmentsGrain>($"{leadEvent.WorkspaceId}/{leadEvent.LeadId}").UpdateLeadAsync(leadEvent.Stage)
        : Task.CompletedTask;
}

/// <summary>Erases the person's traits and consents from the segment facts of erased profiles, and waits until the facts are rewritten.</summary>
internal sealed class SegmentErasureObserver(IGrainFactory grains, FactsWriter facts) : ICustomerErasureObserver
{
    public async Task OnErasedAsync(string workspaceId, IReadOnlyList<string> customerIds, CancellationToken cancellationToken)
    {
        await Task.WhenAll(customerIds.Select(id => grains.GetGrainByKey<ICustomerSegmentsGrain>($"{workspaceId}/{id}").EraseAsync()));
        await facts.FlushAsync(cancellationToken);
    }
}
