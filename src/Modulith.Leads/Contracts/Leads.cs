namespace Modulith.Leads.Contracts;

/// <summary>The stages of SPEC §2: Visitor, Lead (known contact), MQL, SQL, Accepted, Customer; side exits Rejected and Recycled.</summary>
public static class LeadStages
{
    /// <summary>An anonymous visitor.</summary>
    public const string Visitor = "Visitor";

    /// <summary>A known contact (email or phone).</summary>
    public const string Lead = "Lead";

    /// <summary>Marketing-qualified.</summary>
    public const string Mql = "MQL";

    /// <summary>Sales-qualified.</summary>
    public const string Sql = "SQL";

    /// <summary>Sales took it.</summary>
    public const string Accepted = "Accepted";

    /// <summary>Placed a first order.</summary>
    public const string Customer = "Customer";

    /// <summary>Sales rejected it, with a reason.</summary>
    public const string Rejected = "Rejected";

    /// <summary>Back to nurturing.</summary>
    public const string Recycled = "Recycled";

    /// <summary>Every stage.</summary>
    public static readonly IReadOnlyList<string> All = [Visitor, Lead, Mql, Sql, Accepted, Customer, Rejected, Recycled];
}

/// <summary>The rejection reasons of SPEC §2.</summary>
public static class RejectionReasons
{
    /// <summary>Every reason sales may give.</summary>
    public static readonly IReadOnlyList<string> All = ["poor_quality", "not_ready_to_buy", "no_contact_data", "long_decision_time", "wrong_decision_maker", "no_product_fit", "other"];
}

/// <summary>One transition in a lead's history.</summary>
/// <param name="From">The stage before.</param>
/// <param name="To">The stage after.</param>
/// <param name="At">When.</param>
/// <param name="By">Who: <c>system</c> (scoring, orders) or the API key's name.</param>
/// <param name="Reason">Why (the rules or criteria that held, the rejection reason ...).</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.StageChange")]
public sealed record StageChange([property: Id(0)] string From, [property: Id(1)] string To, [property: Id(2)] DateTimeOffset At, [property: Id(3)] string By, [property: Id(4)] string? Reason);

/// <summary>An assignment of a lead to a rep, with why that rep.</summary>
/// <param name="RepId">The rep.</param>
/// <param name="At">When.</param>
/// <param name="By">system or the API key's name.</param>
/// <param name="Strategy">round_robin, weighted, least_loaded, rules or manual.</param>
/// <param name="Reason">Why this rep, and which reps were skipped and why.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.Assignment")]
public sealed record Assignment([property: Id(0)] string RepId, [property: Id(1)] DateTimeOffset At, [property: Id(2)] string By, [property: Id(3)] string Strategy, [property: Id(4)] string Reason);

/// <summary>Where the lead came from: the customer's first marketing touch.</summary>
/// <param name="Channel">The default channel grouping (organic_search, paid_social ...).</param>
/// <param name="Source">utm_source or the referrer's host.</param>
/// <param name="Campaign">utm_campaign.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadSource")]
public sealed record LeadSource([property: Id(0)] string? Channel, [property: Id(1)] string? Source, [property: Id(2)] string? Campaign);

/// <summary>The lead's SLA clock.</summary>
/// <param name="PolicyId">The SLA policy that set it.</param>
/// <param name="StartedAt">When the clock started (assignment to the first rep).</param>
/// <param name="DueAt">When the first contact is due.</param>
/// <param name="FirstContactAt">When the first contact happened (stops the clock).</param>
/// <param name="Breached">The deadline passed without contact.</param>
/// <param name="Paused">The clock is paused.</param>
/// <param name="RemindersSent">Reminders sent so far (by fraction of the time).</param>
/// <param name="EscalationsSent">Escalation steps taken so far.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.SlaClock")]
public sealed record SlaClock(
    [property: Id(0)] string PolicyId,
    [property: Id(1)] DateTimeOffset StartedAt,
    [property: Id(2)] DateTimeOffset? DueAt,
    [property: Id(3)] DateTimeOffset? FirstContactAt,
    [property: Id(4)] bool Breached,
    [property: Id(5)] bool Paused,
    [property: Id(6)] int RemindersSent,
    [property: Id(7)] int EscalationsSent);

/// <summary>A lead: the customer in the sales funnel.</summary>
/// <param name="Id">The lead id (the customer id).</param>
/// <param name="Stage">The current stage.</param>
/// <param name="Score">The score with its explanation.</param>
/// <param name="OwnerId">The assigned rep.</param>
/// <param name="Source">Where it came from.</param>
/// <param name="RejectionReason">Why sales rejected it.</param>
/// <param name="Sla">The SLA clock, once one runs.</param>
/// <param name="History">Every stage change.</param>
/// <param name="Assignments">Every assignment, with its reason.</param>
/// <param name="CreatedAt">When it became a lead (a known contact).</param>
/// <param name="UpdatedAt">The latest change.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadView")]
public sealed record LeadView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Stage,
    [property: Id(2)] LeadScore? Score,
    [property: Id(3)] string? OwnerId,
    [property: Id(4)] LeadSource Source,
    [property: Id(5)] string? RejectionReason,
    [property: Id(6)] SlaClock? Sla,
    [property: Id(7)] IReadOnlyList<StageChange> History,
    [property: Id(8)] IReadOnlyList<Assignment> Assignments,
    [property: Id(9)] DateTimeOffset? CreatedAt,
    [property: Id(10)] DateTimeOffset? UpdatedAt);

/// <summary>Where a lead entered through the API came from.</summary>
/// <param name="Source">utm_source equivalent: linkedin, trade-show, partner ...</param>
/// <param name="Medium">utm_medium equivalent: cpc, email, event, referral ...</param>
/// <param name="Campaign">utm_campaign equivalent.</param>
public sealed record CreateLeadSource(string? Source = null, string? Medium = null, string? Campaign = null);

/// <summary>The lead was stored but its profile is still being resolved (ingestion is busy); look it up later.</summary>
/// <param name="MessageId">The identify message that carries the lead.</param>
/// <param name="Lookup">Where the customer (and so the lead's id) will be found.</param>
public sealed record LeadCreationPending(string MessageId, string Lookup);
