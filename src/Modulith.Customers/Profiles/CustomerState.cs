namespace Modulith.Customers.Profiles;

/// <summary>The customer grain's persisted state. Stored as JSON by property name (see docs/adr/0003): add properties, never rename them.</summary>
[GenerateSerializer, Alias("modulith.customers.CustomerState")]
internal sealed class CustomerState
{
    /// <summary>Events remembered for deduplication; covers any redelivery of an undispatched batch.</summary>
    public const int RememberedEvents = 2_000;

    /// <summary>Entries kept in the in-grain recent timeline.</summary>
    public const int RecentEventCount = 50;

    /// <summary>Touchpoints kept in the grain (the first touch is always kept).</summary>
    public const int TouchpointCount = 100;

    [Id(0)] public string Id { get; set; } = string.Empty;
    [Id(1)] public string WorkspaceId { get; set; } = string.Empty;
    [Id(2)] public DateTimeOffset? CreatedAt { get; set; }
    [Id(3)] public DateTimeOffset? FirstSeen { get; set; }
    [Id(4)] public DateTimeOffset? LastSeen { get; set; }
    [Id(5)] public List<IdentityEntry> Identities { get; set; } = [];
    /// <summary>Trait values as raw JSON text, by trait name.</summary>
    [Id(6)] public Dictionary<string, string> Traits { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public Dictionary<string, ConsentEntry> Consents { get; set; } = new(StringComparer.Ordinal);
    [Id(8)] public OrderSummary Orders { get; set; } = new();
    [Id(9)] public List<Touchpoint> Touchpoints { get; set; } = [];
    [Id(10)] public Counters Counters { get; set; } = new();
    /// <summary>
    /// The latest events, newest last. Not stored (docs/adr/0013): the activation keeps those it applied, and reads the
    /// rest back from the event log when the profile is first read.
    /// </summary>
    [Id(11), System.Text.Json.Serialization.JsonIgnore] public List<RecentEvent> RecentEvents { get; set; } = [];
    /// <summary>
    /// Message ids of the latest events, as states stored before <see cref="RecentSequences"/> remembered them: still
    /// checked, never added to, and emptied once <see cref="RecentSequences"/> covers <see cref="RememberedEvents"/> events.
    /// </summary>
    [Id(12)] public List<string> RecentMessageIds { get; set; } = [];
    [Id(13)] public string? ForwardedTo { get; set; }
    [Id(14)] public List<MergeRecord> Merges { get; set; } = [];
    [Id(15)] public List<IdentityConflict> Conflicts { get; set; } = [];
    [Id(16)] public long LastSequence { get; set; }
    [Id(17)] public List<string> GroupIds { get; set; } = [];
    /// <summary>Identifiers this profile's events carried that belong to another profile (recorded as conflicts, never linked here).</summary>
    [Id(18)] public List<string> DisputedIdentities { get; set; } = [];
    /// <summary>Every profile merged into this one, directly or through earlier merges (their events are on this timeline).</summary>
    [Id(19)] public List<string> AbsorbedCustomerIds { get; set; } = [];
    /// <summary>When the person's data was erased (privacy request); only anonymous aggregates remain.</summary>
    [Id(20)] public DateTimeOffset? ErasedAt { get; set; }
    /// <summary>
    /// The event log's sequences of the latest events applied, for deduplication (the log holds one row per message id of
    /// a workspace). Numbers rather than the message ids' strings: each event's write into the state then leaves the
    /// collector no new object to trace from the old generation (docs/performance.md, session 29), and the stored state
    /// is smaller.
    /// </summary>
    [Id(21)] public List<long> RecentSequences { get; set; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public bool Exists => CreatedAt is not null;
}

[GenerateSerializer, Alias("modulith.customers.IdentityEntry")]
internal sealed class IdentityEntry
{
    [Id(0)] public string Kind { get; set; } = string.Empty;
    [Id(1)] public string Value { get; set; } = string.Empty;
    [Id(2)] public DateTimeOffset FirstSeen { get; set; }
}

[GenerateSerializer, Alias("modulith.customers.ConsentEntry")]
internal sealed class ConsentEntry
{
    [Id(0)] public bool Granted { get; set; }
    [Id(1)] public string Source { get; set; } = string.Empty;
    [Id(2)] public DateTimeOffset At { get; set; }
}

[GenerateSerializer, Alias("modulith.customers.OrderSummary")]
internal sealed class OrderSummary
{
    [Id(0)] public int Count { get; set; }
    [Id(1)] public decimal Revenue { get; set; }
    [Id(2)] public string? Currency { get; set; }
    [Id(3)] public DateTimeOffset? FirstOrderAt { get; set; }
    [Id(4)] public DateTimeOffset? LastOrderAt { get; set; }
    [Id(5)] public decimal Refunded { get; set; }
    /// <summary>Order ids seen, so an order reported twice (different messageIds) counts once.</summary>
    [Id(6)] public List<string> OrderIds { get; set; } = [];
}

[GenerateSerializer, Alias("modulith.customers.Touchpoint")]
internal sealed class Touchpoint
{
    [Id(0)] public DateTimeOffset At { get; set; }
    [Id(1)] public string Channel { get; set; } = "direct";
    [Id(2)] public string? Source { get; set; }
    [Id(3)] public string? Medium { get; set; }
    [Id(4)] public string? Campaign { get; set; }
    [Id(5)] public string? Term { get; set; }
    [Id(6)] public string? Content { get; set; }
    [Id(7)] public string? Referrer { get; set; }
    [Id(8)] public string? ClickId { get; set; }
    [Id(9)] public string? LandingPage { get; set; }
    [Id(10)] public string MessageId { get; set; } = string.Empty;
}

[GenerateSerializer, Alias("modulith.customers.Counters")]
internal sealed class Counters
{
    [Id(0)] public long Events { get; set; }
    [Id(1)] public long ProductViews { get; set; }
    [Id(2)] public long PageViews { get; set; }
    [Id(3)] public long Sessions { get; set; }
    /// <summary>Seconds of closed sessions; the open one is added on read.</summary>
    [Id(4)] public double ClosedSessionSeconds { get; set; }
    [Id(5)] public DateTimeOffset? SessionStart { get; set; }
    [Id(6)] public DateTimeOffset? SessionLast { get; set; }
    [Id(7)] public Dictionary<string, long> EventCounts { get; set; } = new(StringComparer.Ordinal);

    [System.Text.Json.Serialization.JsonIgnore]
    public double TimeOnSiteSeconds =>
        ClosedSessionSeconds + (SessionStart is { } start && SessionLast is { } last ? (last - start).TotalSeconds : 0);
}

[GenerateSerializer, Alias("modulith.customers.RecentEvent")]
internal sealed class RecentEvent
{
    [Id(0)] public long Sequence { get; set; }
    [Id(1)] public string MessageId { get; set; } = string.Empty;
    [Id(2)] public string Type { get; set; } = string.Empty;
    [Id(3)] public string? Name { get; set; }
    [Id(4)] public DateTimeOffset Timestamp { get; set; }
}

[GenerateSerializer, Alias("modulith.customers.MergeRecord")]
internal sealed class MergeRecord
{
    [Id(0)] public string SourceCustomerId { get; set; } = string.Empty;
    [Id(1)] public DateTimeOffset At { get; set; }
    [Id(2)] public string Reason { get; set; } = string.Empty;
    /// <summary>This profile's state just before the merge (JSON), to restore it on unmerge.</summary>
    [Id(3)] public string TargetBefore { get; set; } = string.Empty;
    /// <summary>The merged-away profile's state at the merge (JSON).</summary>
    [Id(4)] public string Source { get; set; } = string.Empty;
    [Id(5)] public long SequenceAtMerge { get; set; }
    [Id(6)] public List<IdentityEntry> SourceIdentities { get; set; } = [];
}

[GenerateSerializer, Alias("modulith.customers.IdentityConflict")]
internal sealed class IdentityConflict
{
    [Id(0)] public DateTimeOffset At { get; set; }
    [Id(1)] public string Identity { get; set; } = string.Empty;
    [Id(2)] public string OtherCustomerId { get; set; } = string.Empty;
    [Id(3)] public string Reason { get; set; } = string.Empty;
}
