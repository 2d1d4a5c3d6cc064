namespace Modulith.Leads.Contracts;

/// <summary>An integration event of the Leads module.</summary>
/// <param name="Kind">stage_changed, assigned, sla_reminder, sla_breached, sla_escalated.</param>
/// <param name="WorkspaceId">The workspace.</param>
/// <param name="LeadId">The lead (customer id).</param>
/// <param name="At">When.</param>
/// <param name="Stage">The lead's stage.</param>
/// <param name="RepId">The rep concerned (owner, or the escalation target).</param>
/// <param name="Detail">What happened, for people.</param>
public sealed record LeadEvent(string Kind, string WorkspaceId, string LeadId, DateTimeOffset At, string Stage, string? RepId, string Detail);

/// <summary>Implemented by modules that react to leads (journeys, reporting); called in-process after the lead's state is saved.</summary>
public interface ILeadEventObserver
{
    /// <summary>Handles the event; must be quick and must not throw for the lead's sake.</summary>
    Task OnLeadEventAsync(LeadEvent leadEvent);
}

/// <summary>A lead's stage and score.</summary>
/// <param name="Stage">The stage (Visitor while the customer is anonymous).</param>
/// <param name="Score">The total score, when scored.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadStatus")]
public sealed record LeadStatus([property: Id(0)] string Stage, [property: Id(1)] double? Score);

/// <summary>The Leads module's read facade for other modules.</summary>
public interface ILeadDirectory
{
    /// <summary>The customer's lead stage and score (Visitor, unscored, for a customer the Leads module has not seen).</summary>
    Task<LeadStatus> GetStatusAsync(string workspaceId, string leadId);
}
