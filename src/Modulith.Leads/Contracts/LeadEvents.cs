namespace Modulith.Leads.Contracts;

/// <summary>An integration event of the Leads module.</summary>
/// <param name="Kind">stage_changed, assigned, contacted (a sales touch; <paramref name="Detail"/> is the contact channel: call, email, meeting ...), sla_reminder, sla_breached, sla_escalated.</param>
/// <param name="WorkspaceId">The workspace.</param>
/// <param name="LeadId">The lead (customer id).</param>
/// <param name="At">When.</param>
/// <param name="Stage">The lead's stage.</param>
/// <param name="RepId">The rep concerned (owner, or the escalation target).</param>
/// <param name="Detail">What happened, for people.</param>
public sealed record LeadEvent(string Kind, string WorkspaceId, string LeadId, DateTimeOffset At, string Stage, string? RepId, string Detail);

/// <summary>
/// Implemented by modules that react to leads (journeys, reporting); called in-process after the lead's state is saved,
/// side by side with the other observers, so none may rely on another having seen the event first.
/// </summary>
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
    /// <summary>
    /// The customer's lead stage and score (Visitor, unscored, for a customer the Leads module has not seen). A customer
    /// who is not a known contact (no email, no phone) has no lead: the answer is Visitor, unscored, without a lookup.
    /// </summary>
    Task<LeadStatus> GetStatusAsync(string workspaceId, string leadId, bool isKnownContact);
}

/// <summary>A period's lead funnel and SLA, for the shared KPIs.</summary>
/// <param name="Leads">Leads created in the period.</param>
/// <param name="Mqls">Leads that became MQL (or SQL directly) in the period.</param>
/// <param name="Sqls">Leads that became SQL in the period.</param>
/// <param name="Customers">Leads that became customers (first order) in the period.</param>
/// <param name="MqlToSql">SQLs among the period's MQLs.</param>
/// <param name="SqlToCustomer">Customers among the period's SQLs.</param>
/// <param name="SlaClocks">SLA clocks started in the period.</param>
/// <param name="SlaMet">Of those, first contact before the deadline.</param>
/// <param name="SlaBreached">Of those, breached.</param>
/// <param name="SlaAttainment">Met / (met + breached).</param>
/// <param name="MedianSecondsToContact">Speed to lead: the median from the clock's start to the first contact.</param>
/// <param name="P90SecondsToContact">Its 90th percentile.</param>
public sealed record LeadFunnelSummary(int Leads, int Mqls, int Sqls, int Customers, double? MqlToSql, double? SqlToCustomer,
    int SlaClocks, int SlaMet, int SlaBreached, double? SlaAttainment, double? MedianSecondsToContact, double? P90SecondsToContact);

/// <summary>The Leads module's reporting facade for the shared KPIs.</summary>
public interface ILeadReporting
{
    /// <summary>The funnel and SLA of [from, to), optionally for leads whose source channel or campaign is given.</summary>
    Task<LeadFunnelSummary> FunnelAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, string? channel, string? campaign, CancellationToken cancellationToken = default);
}
