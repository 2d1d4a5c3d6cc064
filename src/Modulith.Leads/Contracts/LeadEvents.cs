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
