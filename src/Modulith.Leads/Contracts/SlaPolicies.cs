namespace Modulith.Leads.Contracts;

/// <summary>
/// The workspace's lead SLA agreement (<c>GET|PUT /api/sla-policies</c>): business-hour calendars, the policies (who
/// gets a lead, how fast the first contact must happen, reminders, escalations), where notifications go, and
/// marketing's side of the agreement (the MQL volume it commits to).
/// </summary>
/// <param name="Calendars">Business-hour calendars policies count time in.</param>
/// <param name="Policies">The policies; for a lead the matching one with the highest priority applies.</param>
/// <param name="Notifications">Channel connector instances that carry assignments, reminders and escalations.</param>
/// <param name="MarketingCommitment">MQLs marketing commits to per month.</param>
/// <param name="Version">Assigned by the server.</param>
/// <param name="UpdatedAt">When it was stored.</param>
public sealed record SlaAgreement(
    IReadOnlyList<BusinessCalendarDefinition>? Calendars,
    IReadOnlyList<SlaPolicy>? Policies,
    SlaNotifications? Notifications = null,
    MarketingCommitment? MarketingCommitment = null,
    int Version = 0,
    DateTimeOffset? UpdatedAt = null);

/// <summary>A business-hour calendar.</summary>
/// <param name="Id">Referred to by policies.</param>
/// <param name="TimeZone">IANA time zone (e.g. Europe/Warsaw).</param>
/// <param name="WorkingHours">By day (monday ... sunday): "HH:mm-HH:mm" ranges; a day not listed is closed.</param>
/// <param name="Holidays">Built-in public holidays: <c>PL</c> (Poland) or none.</param>
/// <param name="ExtraHolidays">Further closed dates (yyyy-MM-dd).</param>
public sealed record BusinessCalendarDefinition(
    string? Id,
    string? TimeZone,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? WorkingHours,
    string? Holidays = null,
    IReadOnlyList<string>? ExtraHolidays = null);

/// <summary>One SLA policy.</summary>
/// <param name="Id">Unique id.</param>
/// <param name="Stage">The stage whose leads it covers: SQL (default) or MQL.</param>
/// <param name="Within">ISO 8601 duration to the first contact (e.g. PT1H), counted in the calendar's business time.</param>
/// <param name="Calendar">The calendar id; none: around the clock.</param>
/// <param name="Priority">Among matching policies the highest priority applies.</param>
/// <param name="When">Only leads whose profile matches (e.g. a VIP trait); none: every lead of the stage.</param>
/// <param name="Reminders">Fractions of the time at which the owner is reminded (e.g. 0.5 and 0.8).</param>
/// <param name="Escalations">The chain on breach: each step after a delay past the deadline.</param>
/// <param name="Assignment">Who gets the lead.</param>
public sealed record SlaPolicy(
    string? Id,
    string? Stage,
    string? Within,
    string? Calendar = null,
    int Priority = 0,
    ProfileCondition? When = null,
    IReadOnlyList<double>? Reminders = null,
    IReadOnlyList<EscalationStep>? Escalations = null,
    AssignmentPolicy? Assignment = null);

/// <summary>One escalation step.</summary>
/// <param name="After">ISO 8601 duration after the deadline (PT0S: at the breach).</param>
/// <param name="Notify">owner, manager (the owner's manager), rep:{id} or email:{address}.</param>
/// <param name="Reassign">Also hand the lead to the next rep by the assignment strategy.</param>
public sealed record EscalationStep(string? After, string? Notify, bool Reassign = false);

/// <summary>How leads are assigned.</summary>
/// <param name="Strategy">round_robin (default), weighted, least_loaded or rules.</param>
/// <param name="Team">Only reps of this team.</param>
/// <param name="Rules">For the rules strategy: the first matching rule picks the candidates (then round robin among them).</param>
/// <param name="RespectWorkingHours">Skip reps outside their working hours.</param>
public sealed record AssignmentPolicy(string? Strategy = null, string? Team = null, IReadOnlyList<AssignmentRule>? Rules = null, bool RespectWorkingHours = false);

/// <summary>An assignment rule: when the lead matches, the candidates are these reps.</summary>
/// <param name="Countries">The lead's country (trait country or address.country) is one of these.</param>
/// <param name="MatchTerritory">Candidates are the reps whose territories include the lead's country.</param>
/// <param name="When">A profile condition (a segment-like trait test).</param>
/// <param name="MinOrderValue">The lead's revenue so far is at least this.</param>
/// <param name="Team">Candidates are this team's reps.</param>
/// <param name="RepIds">Candidates are these reps.</param>
/// <param name="Skills">Candidates have all these skills.</param>
/// <param name="Strategy">How to pick among the candidates (default round_robin).</param>
public sealed record AssignmentRule(
    IReadOnlyList<string>? Countries = null,
    bool MatchTerritory = false,
    ProfileCondition? When = null,
    double? MinOrderValue = null,
    string? Team = null,
    IReadOnlyList<string>? RepIds = null,
    IReadOnlyList<string>? Skills = null,
    string? Strategy = null);

/// <summary>Where SLA notifications go.</summary>
/// <param name="EmailInstanceId">An email channel instance: assignments and reminders to the rep, escalations to the manager.</param>
/// <param name="WebhookInstanceId">A webhook channel instance that gets every lead event as JSON.</param>
public sealed record SlaNotifications(string? EmailInstanceId = null, string? WebhookInstanceId = null);

/// <summary>Marketing's side of the agreement.</summary>
/// <param name="MqlPerMonth">MQLs per calendar month.</param>
public sealed record MarketingCommitment(int MqlPerMonth);
