using System.Text.Json;
using Modulith.Customers.Contracts;

namespace Modulith.Segmentation.Contracts;

/// <summary>A segment to create or replace.</summary>
/// <param name="Id">Optional id on creation (letters, digits, '-' and '_', up to 64); generated when missing. Rules refer to segments by id.</param>
/// <param name="Name">A name for people.</param>
/// <param name="Description">What the segment is for.</param>
/// <param name="Rule">The rule (JSON): and/or/not over metrics, traits, consents, events in a window and other segments (docs/segments.md).</param>
public sealed record SegmentDefinition(string? Id, string? Name, string? Description, JsonElement? Rule);

/// <summary>A segment with its exact member count and the progress of its back-fill over existing customers.</summary>
/// <param name="Id">The segment id.</param>
/// <param name="Name">Its name.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Rule">The rule as given.</param>
/// <param name="Version">Increases with every change of the rule.</param>
/// <param name="MemberCount">Customers in the segment now (exact).</param>
/// <param name="Backfill">Evaluation of existing customers after a create or change.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it was last changed.</param>
public sealed record SegmentView(string Id, string Name, string? Description, JsonElement Rule, int Version, long MemberCount, SegmentBackfill Backfill, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>The back-fill of a new or changed segment over the customers that existed before it.</summary>
/// <param name="Status">running or completed.</param>
/// <param name="Total">Customers to evaluate.</param>
/// <param name="Done">Customers evaluated so far.</param>
public sealed record SegmentBackfill(string Status, long Total, long Done);

/// <summary>What a rule would select now, without saving it.</summary>
/// <param name="Count">Customers the rule holds for.</param>
/// <param name="Evaluated">Customers evaluated.</param>
/// <param name="Sample">Up to 10 of them.</param>
/// <param name="TookMilliseconds">How long the evaluation took.</param>
public sealed record SegmentPreview(long Count, long Evaluated, IReadOnlyList<CustomerListItem> Sample, double TookMilliseconds);

/// <summary>A member of a segment.</summary>
/// <param name="CustomerId">The customer.</param>
/// <param name="EnteredAt">When they entered.</param>
/// <param name="UserId">The first userId.</param>
/// <param name="Email">The first email.</param>
/// <param name="Phone">The first phone.</param>
/// <param name="Name">The name from traits.</param>
public sealed record SegmentMember(string CustomerId, DateTimeOffset EnteredAt, string? UserId, string? Email, string? Phone, string? Name);

/// <summary>A customer entered or left a segment (also written to the customer's timeline as a <c>Segment Entered</c> or <c>Segment Exited</c> event).</summary>
/// <param name="Sequence">Ascending position in the workspace's change feed.</param>
/// <param name="WorkspaceId">The workspace.</param>
/// <param name="SegmentId">The segment.</param>
/// <param name="CustomerId">The customer.</param>
/// <param name="Kind">entered or exited.</param>
/// <param name="At">When.</param>
public sealed record SegmentMembershipChange(long Sequence, string WorkspaceId, string SegmentId, string CustomerId, string Kind, DateTimeOffset At);

/// <summary>Implemented by modules that react to segment entry and exit (journeys); called after the change is stored, at least once.</summary>
public interface ISegmentMembershipObserver
{
    /// <summary>Handles the change; must be idempotent (a change may be delivered again after a crash).</summary>
    Task OnMembershipChangedAsync(SegmentMembershipChange change);
}

/// <summary>The lifecycle windows of a workspace, as ISO 8601 durations.</summary>
/// <param name="NewWithin">A customer is new while their first order is younger than this (default P30D).</param>
/// <param name="ActiveWithin">Otherwise active while their latest order is younger than this (default P90D).</param>
/// <param name="LostAfter">Otherwise dormant until their latest order is this old, then lost (default P365D).</param>
public sealed record LifecycleSettings(string? NewWithin, string? ActiveWithin, string? LostAfter);

/// <summary>The workspace's latest RFM computation.</summary>
/// <param name="ComputedAt">When it ran.</param>
/// <param name="Customers">Customers with an order (the population scored).</param>
/// <param name="RecencyDays">Cut points (20/40/60/80th percentile) of days since the last order.</param>
/// <param name="Frequency">Cut points of the order count.</param>
/// <param name="Monetary">Cut points of revenue.</param>
/// <param name="Cells">Customers per named cell.</param>
/// <param name="Lifecycle">Customers per lifecycle stage.</param>
public sealed record RfmSummary(DateTimeOffset ComputedAt, int Customers, IReadOnlyList<double> RecencyDays, IReadOnlyList<double> Frequency, IReadOnlyList<double> Monetary,
    IReadOnlyDictionary<string, long> Cells, IReadOnlyDictionary<string, long> Lifecycle);
