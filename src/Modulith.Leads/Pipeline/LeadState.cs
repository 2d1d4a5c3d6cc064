using Modulith.Leads.Contracts;
using Modulith.Leads.Scoring;

namespace Modulith.Leads.Pipeline;

/// <summary>The lead grain's persisted state, stored as JSON by property name: add properties, never rename them.</summary>
[GenerateSerializer, Alias("modulith.leads.LeadState")]
internal sealed class LeadState
{
    public const int MaxEvents = 1_000;
    public const int RememberedMessageIds = 2_000;

    [Id(0)] public string Stage { get; set; } = LeadStages.Visitor;
    [Id(1)] public List<ScoredEvent> Events { get; set; } = [];
    [Id(2)] public List<string> SeenMessageIds { get; set; } = [];
    [Id(3)] public ProfileFacts Profile { get; set; } = ProfileFacts.Empty;
    [Id(4)] public LeadScore? Score { get; set; }
    [Id(5)] public LeadSource Source { get; set; } = new(null, null, null);
    [Id(6)] public string? OwnerId { get; set; }
    [Id(7)] public List<StageChange> History { get; set; } = [];
    [Id(8)] public List<Assignment> Assignments { get; set; } = [];
    [Id(9)] public DateTimeOffset? CreatedAt { get; set; }
    [Id(10)] public DateTimeOffset? UpdatedAt { get; set; }
    [Id(11)] public DateTimeOffset? MqlAt { get; set; }
    [Id(12)] public DateTimeOffset? SqlAt { get; set; }
    [Id(13)] public DateTimeOffset? AcceptedAt { get; set; }
    [Id(14)] public DateTimeOffset? RejectedAt { get; set; }
    [Id(15)] public string? RejectionReason { get; set; }
    [Id(16)] public DateTimeOffset? CustomerAt { get; set; }
    [Id(17)] public DateTimeOffset? RecycledAt { get; set; }
    [Id(18)] public SlaClock? Sla { get; set; }
    [Id(19)] public int OrdersCount { get; set; }
    [Id(20)] public DateTimeOffset? FirstContactAt { get; set; }
    [Id(21)] public string? Team { get; set; }
    /// <summary>Business time the SLA clock ran before its current run (it restarts from zero on every resume).</summary>
    [Id(22)] public TimeSpan SlaElapsedBefore { get; set; }
    [Id(23)] public string? Country { get; set; }
    /// <summary>The next SLA time (reminder, deadline or escalation step) of the running clock.</summary>
    [Id(24)] public DateTimeOffset? SlaNextDueAt { get; set; }
    /// <summary>When the person's data was erased: the lead keeps its stage and dates for the counts, and nothing moves it.</summary>
    [Id(25)] public DateTimeOffset? ErasedAt { get; set; }

    public bool IsLead => Stage != LeadStages.Visitor;
}
