using Microsoft.Extensions.Logging;
using Modulith.Leads.Contracts;
using Modulith.Leads.Routing;
using Modulith.Leads.Scoring;
using Modulith.Leads.Sla;
using Modulith.Leads.Storage;
using Orleans.Concurrency;

namespace Modulith.Leads.Pipeline;

/// <summary>
/// What the customer's grain tells the lead's grain: new events and the profile as it is now, and where the customer's
/// earlier events are in the event log (its profile id and the ids merged into it, and the log sequences of its latest
/// events; null when it has no earlier events).
/// </summary>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadActivity")]
internal sealed record LeadActivity(
    [property: Id(0)] IReadOnlyList<ScoredEvent> Events,
    [property: Id(1)] ProfileFacts Profile,
    [property: Id(2)] LeadSource? Source,
    [property: Id(3)] int OrdersCount,
    [property: Id(4)] string? Country,
    [property: Id(5)] IReadOnlyList<string>? HistoryCustomerIds = null,
    [property: Id(6)] IReadOnlyList<long>? RecentSequences = null);

/// <summary>The outcome of a sales action: the lead, or why the action was refused (with the HTTP status to answer).</summary>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadActionResult")]
internal sealed record LeadActionResult([property: Id(0)] LeadView? Lead, [property: Id(1)] int Status, [property: Id(2)] string? Error)
{
    public static LeadActionResult Ok(LeadView lead) => new(lead, 200, null);

    public static LeadActionResult Refused(int status, string error) => new(null, status, error);
}

/// <summary>One lead (one per customer); key <c>{workspace}/{customerId}</c>. Scores on every activity and keeps the stage machine.</summary>
internal interface ILeadGrain : IGrainWithStringKey
{
    /// <summary>Applies new activity idempotently (events are deduplicated by message id) and moves the stage.</summary>
    Task ObserveAsync(LeadActivity activity);

    /// <summary>
    /// The lead as stored, or null while the customer is not a lead. A call that changes the lead and is under way is
    /// waited for until its change is stored, not until it has told the lead's observers.
    /// </summary>
    [AlwaysInterleave]
    Task<LeadView?> GetAsync();

    /// <summary>The stage and score only (cheap; for segments).</summary>
    [ReadOnly]
    Task<Contracts.LeadStatus> GetStatusAsync();

    /// <summary>Rescores with the given model version (or newer) and applies what it qualifies for.</summary>
    Task RescoreAsync(int modelVersion);

    /// <summary>Records, once, that the lead was entered through the API (who and why), for its history.</summary>
    Task<LeadActionResult> RecordCreationAsync(string by, string? note);

    /// <summary>Records a touch by sales (call, email, meeting); the first one stops the SLA clock.</summary>
    Task<LeadActionResult> ContactAsync(string by, string? channel, string? note);

    /// <summary>Sales accepts an SQL.</summary>
    Task<LeadActionResult> AcceptAsync(string by);

    /// <summary>Sales rejects an SQL with one of the SPEC's reasons.</summary>
    Task<LeadActionResult> RejectAsync(string by, string reason, string? note);

    /// <summary>Back to nurturing: the lead qualifies again only on new behaviour.</summary>
    Task<LeadActionResult> RecycleAsync(string by, string? note);

    /// <summary>Assigns to a rep (or by the policy's strategy when <paramref name="repId"/> is null).</summary>
    Task<LeadActionResult> AssignAsync(string by, string? repId);

    /// <summary>Pauses or resumes the SLA clock.</summary>
    Task<LeadActionResult> PauseSlaAsync(string by, bool pause);

    /// <summary>Fires the SLA reminders and escalations that are due.</summary>
    Task FireDueTimersAsync();

    /// <summary>
    /// Removes the person's data: the scored events, the profile's traits and consents, the country and people's notes
    /// in the history. The stage, the score, the dates and the assignments stay for the reports; a running SLA clock
    /// stops, and nothing moves the lead any more. Idempotent.
    /// </summary>
    Task EraseAsync();
}

internal sealed partial class LeadGrain(
    [PersistentState("lead", LeadsModule.GrainStorage)] IPersistentState<LeadState> state,
    ScoringModelStore models,
    LeadProjectionStore projection,
    LeadRouter router,
    UnassignedLeadLog unassigned,
    SlaEngine sla,
    LeadTimerStore timers,
    Ingestion.Contracts.IEventLog eventLog,
    TimeProvider clock,
    ILogger<LeadGrain> logger) : Grain, ILeadGrain, IIncomingGrainCallFilter
{
    private const string CreatedThroughApi = "entered through the API";

    // Until the customer is a lead, the grain stores nothing: the event log holds the customer's events, and the first
    // activity of an activation reads them back (docs/adr/0012). An anonymous visitor has no grain at all (docs/adr/0014).
    private bool _historyLoaded;

    private IGrainTimer? _timer;

    // What lead_timers holds for this lead, as far as this activation knows: the state's due time when it was loaded
    // (both are written together), then what this activation wrote.
    private DateTimeOffset? _storedDueAt;

    // The lead as last stored, which reads answer (GetAsync interleaves with the calls that change the lead). While such
    // a call is under way and has not stored its change yet, a read waits for it: it answers the change as soon as it is
    // stored, without waiting for the observers that are told about it afterwards.
    private LeadView? _stored;
    private TaskCompletionSource? _storing;

    private LeadState S => state.State;

    private (string Workspace, string Customer) Key
    {
        get
        {
            var key = this.GetPrimaryKeyString();
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            return (key[..slash], key[(slash + 1)..]);
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _historyLoaded = S.IsLead;
        if (!S.IsLead)
        {
            // A visitor's state stored by an older version stopped being written: the log has its events since.
            S.Events.Clear();
            S.SeenMessageIds.Clear();
        }

        _storedDueAt = S.SlaNextDueAt;
        _stored = S.IsLead ? View() : null;
        ArmTimer();
        return Task.CompletedTask;
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name is nameof(GetAsync) or nameof(GetStatusAsync))
        {
            await context.Invoke();
            return;
        }

        var storing = _storing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await context.Invoke();
        }
        finally
        {
            _storing = null;
            storing.TrySetResult();
        }
    }

    public async Task ObserveAsync(LeadActivity activity)
    {
        if (S.ErasedAt is not null)
        {
            return;
        }

        var changed = false;
        if (!_historyLoaded)
        {
            if (activity.HistoryCustomerIds is { Count: > 0 } customerIds)
            {
                changed = await LoadHistoryAsync(customerIds, activity.RecentSequences ?? []);
            }

            _historyLoaded = true;
        }

        foreach (var e in activity.Events)
        {
            if (S.SeenMessageIds.Contains(e.MessageId))
            {
                continue;
            }

            S.SeenMessageIds.Add(e.MessageId);
            S.Events.Add(e);
            changed = true;
        }

        if (changed)
        {
            if (S.SeenMessageIds.Count > LeadState.RememberedMessageIds)
            {
                S.SeenMessageIds.RemoveRange(0, S.SeenMessageIds.Count - LeadState.RememberedMessageIds);
            }

            S.Events.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
            if (S.Events.Count > LeadState.MaxEvents)
            {
                S.Events.RemoveRange(0, S.Events.Count - LeadState.MaxEvents);
            }
        }

        if (activity.Profile != S.Profile)
        {
            S.Profile = activity.Profile;
            changed = true;
        }

        if (activity.Source is { } source && S.Source.Channel is null)
        {
            S.Source = source;
            changed = true;
        }

        S.Country = activity.Country ?? S.Country;
        var ordered = activity.OrdersCount > S.OrdersCount;
        S.OrdersCount = Math.Max(S.OrdersCount, activity.OrdersCount);
        if (!changed && !ordered)
        {
            return;
        }

        var model = await models.CurrentAsync(Key.Workspace);
        await AdvanceAsync(model, ordered);
    }

    public async Task<LeadView?> GetAsync()
    {
        if (_storing is { } storing)
        {
            await storing.Task;
        }

        return _stored;
    }

    public Task<LeadStatus> GetStatusAsync() => Task.FromResult(new LeadStatus(S.Stage, S.Score?.Total));

    public async Task RescoreAsync(int modelVersion)
    {
        if (!S.IsLead && S.Events.Count == 0 || S.ErasedAt is not null)
        {
            return;
        }

        var model = await models.CurrentAsync(Key.Workspace, modelVersion);
        await AdvanceAsync(model, ordered: false);
    }

    public async Task<LeadActionResult> ContactAsync(string by, string? channel, string? note)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        var now = clock.GetUtcNow();
        S.FirstContactAt ??= now;
        if (S.Sla is { FirstContactAt: null } running)
        {
            S.Sla = running with { FirstContactAt = now, Breached = running.Breached || running.DueAt < now };
            SlaEngine.StopTimer(S);
            ArmTimer();
        }

        S.History.Add(new StageChange(S.Stage, S.Stage, now, by, $"contact{(channel is null ? string.Empty : " by " + channel)}{(note is null ? string.Empty : ": " + note)}"));
        await SaveAsync();
        await sla.PublishContactAsync(Key.Workspace, Key.Customer, S, now, channel);
        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> RecordCreationAsync(string by, string? note)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        var reason = CreatedThroughApi + (note is null ? string.Empty : ": " + note);
        if (!S.History.Exists(h => h.Reason is not null && h.Reason.StartsWith(CreatedThroughApi, StringComparison.Ordinal)))
        {
            S.History.Add(new StageChange(S.Stage, S.Stage, clock.GetUtcNow(), by, reason));
            await SaveAsync();
        }

        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> AcceptAsync(string by)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        if (S.Stage != LeadStages.Sql)
        {
            return LeadActionResult.Refused(409, $"Only an SQL can be accepted; this lead is {S.Stage}.");
        }

        var now = clock.GetUtcNow();
        S.AcceptedAt = now;
        Move(LeadStages.Accepted, by, "accepted by sales", now);
        await SaveAsync();
        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> RejectAsync(string by, string reason, string? note)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        if (S.Stage != LeadStages.Sql)
        {
            return LeadActionResult.Refused(409, $"Only an SQL can be rejected; this lead is {S.Stage}.");
        }

        var now = clock.GetUtcNow();
        S.RejectedAt = now;
        S.RejectionReason = reason;
        Move(LeadStages.Rejected, by, reason + (note is null ? string.Empty : ": " + note), now);
        CloseSla();
        await SaveAsync();
        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> RecycleAsync(string by, string? note)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        if (S.Stage is not (LeadStages.Mql or LeadStages.Sql or LeadStages.Accepted or LeadStages.Rejected))
        {
            return LeadActionResult.Refused(409, $"Only an MQL, SQL, accepted or rejected lead can be recycled; this lead is {S.Stage}.");
        }

        var now = clock.GetUtcNow();
        S.RecycledAt = now;
        Move(LeadStages.Recycled, by, "back to nurturing" + (note is null ? string.Empty : ": " + note), now);
        CloseSla();
        await SaveAsync();
        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> AssignAsync(string by, string? repId)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        if (S.Stage is LeadStages.Customer or LeadStages.Rejected)
        {
            return LeadActionResult.Refused(409, $"A lead that is {S.Stage} is not assigned.");
        }

        var policy = await sla.PolicyForAsync(Key.Workspace, S.Stage is LeadStages.Mql ? LeadStages.Mql : LeadStages.Sql, S.Profile);
        var outcome = await router.AssignAsync(Key.Workspace, Key.Customer, RoutingFacts(), policy?.Assignment, repId, by, clock.GetUtcNow());
        if (outcome.Error is not null)
        {
            return LeadActionResult.Refused(outcome.Status, outcome.Error);
        }

        await ApplyAssignmentAsync(outcome.Assignment!, outcome.Team);
        await SaveAsync();
        return LeadActionResult.Ok(View());
    }

    public async Task<LeadActionResult> PauseSlaAsync(string by, bool pause)
    {
        if (!S.IsLead)
        {
            return NotALead();
        }

        if (S.Sla is not { FirstContactAt: null, Breached: false } clock0)
        {
            return LeadActionResult.Refused(409, "The lead has no running SLA clock.");
        }

        if (clock0.Paused == pause)
        {
            return LeadActionResult.Ok(View());
        }

        S.Sla = await sla.PauseAsync(Key.Workspace, S, pause, clock.GetUtcNow());
        S.History.Add(new StageChange(S.Stage, S.Stage, clock.GetUtcNow(), by, pause ? "SLA clock paused" : "SLA clock resumed"));
        ArmTimer();
        await SaveAsync();
        return LeadActionResult.Ok(View());
    }

    public async Task FireDueTimersAsync()
    {
        if (S.Sla is not { FirstContactAt: null, Paused: false })
        {
            return;
        }

        var outcome = await sla.FireDueAsync(Key.Workspace, Key.Customer, S, clock.GetUtcNow());
        if (outcome.Reassign is { } reassign)
        {
            var policy = await sla.PolicyForAsync(Key.Workspace, S.Stage, S.Profile);
            var routed = await router.AssignAsync(Key.Workspace, Key.Customer, RoutingFacts(), policy?.Assignment, null, "system", clock.GetUtcNow(), excludeRep: S.OwnerId, reasonPrefix: reassign);
            if (routed.Assignment is { } assignment)
            {
                await ApplyAssignmentAsync(assignment, routed.Team);
            }
        }

        if (outcome.Changed || _unaudited.Count > 0)
        {
            await SaveAsync();
        }

        ArmTimer();
    }

    public async Task EraseAsync()
    {
        S.Events.Clear();
        S.SeenMessageIds.Clear();
        S.Profile = new ProfileFacts(S.Profile.HasEmail, S.Profile.HasPhone, [], S.Profile.Metrics, []);
        S.Country = null;
        // People's notes follow the first ": " of their entries (contact, rejection, recycling, entry through the API).
        S.History = S.History.Select(h => h.By != "system" && h.Reason?.IndexOf(": ", StringComparison.Ordinal) is int cut and >= 0
            ? h with { Reason = h.Reason[..cut] }
            : h).ToList();
        if (!S.IsLead)
        {
            return;
        }

        if (S.ErasedAt is null)
        {
            S.ErasedAt = clock.GetUtcNow();
            S.History.Add(new StageChange(S.Stage, S.Stage, S.ErasedAt.Value, "system", "the person's data was erased"));
            CloseSla();
        }

        await SaveAsync();
    }

    private async Task AdvanceAsync(ScoringModel model, bool ordered)
    {
        var now = clock.GetUtcNow();
        var wasLead = S.IsLead;
        var since = S.Stage == LeadStages.Recycled ? S.RecycledAt : null;
        S.Score = LeadScorer.Score(model, S.Events, S.Profile, now, since);
        if (S.Stage == LeadStages.Visitor && S.Profile.IsKnownContact)
        {
            S.CreatedAt = now;
            Move(LeadStages.Lead, "system", "became a known contact", now);
        }

        if (S.Stage is LeadStages.Lead or LeadStages.Mql or LeadStages.Recycled && S.Score.SqlCriteriaMet && S.Profile.IsKnownContact)
        {
            S.MqlAt ??= now;
            S.SqlAt = now;
            Move(LeadStages.Sql, "system", "SQL criteria met: " + Fired(model.Sql!), now);
            await OnQualifiedAsync(assignAlways: true);
        }
        else if (S.Stage is LeadStages.Lead or LeadStages.Recycled && S.Score.MqlCriteriaMet && S.Profile.IsKnownContact)
        {
            S.MqlAt = now;
            Move(LeadStages.Mql, "system", "MQL criteria met: " + Fired(model.Mql!), now);
            await OnQualifiedAsync(assignAlways: false);
        }

        if (ordered && S.Stage is not LeadStages.Customer && S.Profile.IsKnownContact | S.IsLead)
        {
            if (!S.IsLead)
            {
                S.CreatedAt = now;
            }

            S.CustomerAt = now;
            Move(LeadStages.Customer, "system", "placed a first order", now);
            CloseSla();
        }

        if (S.IsLead || wasLead)
        {
            await SaveAsync();
        }
    }

    /// <summary>
    /// The customer's latest events from the event log: those attributed to the profile (or to profiles merged into it),
    /// and those among its recent sequences that a drain of another partition applied but has not yet attributed.
    /// </summary>
    private async Task<bool> LoadHistoryAsync(IReadOnlyList<string> customerIds, IReadOnlyList<long> recentSequences)
    {
        var (events, _) = await eventLog.ReadTimelineAsync(Key.Workspace, customerIds, null, LeadState.MaxEvents, CancellationToken.None);
        var read = events.Select(e => e.Sequence).ToHashSet();
        var unattributed = recentSequences.Where(s => !read.Contains(s)).ToList();
        if (unattributed.Count > 0)
        {
            events = [.. events, .. await eventLog.ReadEventsAsync(Key.Workspace, unattributed, CancellationToken.None)];
        }

        var seen = S.SeenMessageIds.ToHashSet(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (seen.Add(e.MessageId) && LeadActivityObserver.ScoredEventOf(e.MessageId, e.Type, e.Name, e.Timestamp, e.Payload) is { } scored)
            {
                S.SeenMessageIds.Add(e.MessageId);
                S.Events.Add(scored);
            }
        }

        S.Events.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        if (S.Events.Count > LeadState.MaxEvents)
        {
            S.Events.RemoveRange(0, S.Events.Count - LeadState.MaxEvents);
        }

        return S.Events.Count > 0;
    }

    private string Fired(QualificationCriteria criteria)
    {
        var satisfied = S.Score!.Rules.Where(r => r.Satisfied).Select(r => r.RuleId).ToHashSet(StringComparer.Ordinal);
        var named = (criteria.AllOf ?? []).Concat((criteria.AnyOf ?? []).Where(satisfied.Contains)).ToList();
        var parts = named.Select(id => S.Score.Rules.First(r => r.RuleId == id)).Select(r => $"{r.RuleId} ({r.Points:0.##} points)").ToList();
        if (criteria.MinScore is { } min)
        {
            parts.Add($"score {S.Score.Total:0.##} >= {min:0.##}");
        }

        if (criteria.MinFit is { } minFit)
        {
            parts.Add($"fit {S.Score.Fit:0.##} >= {minFit:0.##}");
        }

        return string.Join(", ", parts);
    }

    /// <summary>
    /// On entering MQL or SQL: the stage's SLA policy (if any) assigns the lead and starts the clock; an SQL is always
    /// assigned (round robin over all reps when no policy says otherwise). The clock starts even when no rep is
    /// available, so an unassigned lead still breaches and escalates.
    /// </summary>
    private async Task OnQualifiedAsync(bool assignAlways)
    {
        var now = clock.GetUtcNow();
        var policy = await sla.PolicyForAsync(Key.Workspace, S.Stage, S.Profile);
        if (policy is not null || assignAlways)
        {
            var outcome = await router.AssignAsync(Key.Workspace, Key.Customer, RoutingFacts(), policy?.Assignment, null, "system", now);
            if (outcome.Assignment is { } assignment)
            {
                S.SlaElapsedBefore = TimeSpan.Zero;
                S.Sla = null;
                await ApplyAssignmentAsync(assignment, outcome.Team);
            }
            else if (outcome.Error is not null)
            {
                unassigned.Unassigned(Key.Workspace, Key.Customer, outcome.Error);
                S.History.Add(new StageChange(S.Stage, S.Stage, now, "system", "not assigned: " + outcome.Error));
            }
        }

        S.Sla = await sla.StartAsync(Key.Workspace, S, now);
        ArmTimer();
    }

    private async Task ApplyAssignmentAsync(Assignment assignment, string? team)
    {
        S.OwnerId = assignment.RepId;
        S.Team = team;
        S.Assignments.Add(assignment);
        _unaudited.Add((assignment, team));
        if (S.Assignments.Count > 100)
        {
            S.Assignments.RemoveAt(0);
        }

        await sla.NotifyAssignedAsync(Key.Workspace, Key.Customer, S, assignment);
    }

    private void CloseSla()
    {
        if (S.Sla is { FirstContactAt: null })
        {
            SlaEngine.StopTimer(S);
            ArmTimer();
        }
    }

    private readonly List<StageChange> _unpublished = [];

    private readonly List<(Assignment Assignment, string? Team)> _unaudited = [];

    private void Move(string to, string by, string reason, DateTimeOffset at)
    {
        var change = new StageChange(S.Stage, to, at, by, reason);
        _unpublished.Add(change);
        S.History.Add(change);
        S.Stage = to;
        if (S.History.Count > 200)
        {
            S.History.RemoveAt(0);
        }

        LogStage(Key.Workspace, Key.Customer, to, reason);
    }

    private RoutingFacts RoutingFacts() => new(S.Country, S.Profile, S.Profile.Metrics.GetValueOrDefault("revenue"));

    private async Task SaveAsync()
    {
        S.UpdatedAt = clock.GetUtcNow();
        // The list's row, the SLA timer's row and the audit of a new assignment follow the state; each waits for a
        // commit, so they wait together. Should the state write fail, the event that led here is delivered again and
        // they are written again.
        var writes = new List<Task>(3 + _unaudited.Count) { state.WriteStateAsync() };
        if (S.IsLead)
        {
            writes.Add(projection.UpsertAsync(Key.Workspace, Key.Customer, S));
        }

        if (S.SlaNextDueAt != _storedDueAt)
        {
            writes.Add(WriteTimerAsync(S.SlaNextDueAt));
        }

        writes.AddRange(_unaudited.Select(a => router.AuditAsync(Key.Workspace, Key.Customer, a.Assignment, a.Team)));
        _unaudited.Clear();
        try
        {
            await Task.WhenAll(writes);
        }
        catch
        {
            // What this activation holds was not stored: the next activation starts again from what was.
            DeactivateOnIdle();
            throw;
        }

        _stored = S.IsLead ? View() : null;
        _storing?.TrySetResult();

        foreach (var change in _unpublished)
        {
            await sla.PublishStageAsync(Key.Workspace, Key.Customer, S, change);
        }

        _unpublished.Clear();
    }

    private async Task WriteTimerAsync(DateTimeOffset? dueAt)
    {
        await timers.SetAsync(Key.Workspace, Key.Customer, dueAt);
        _storedDueAt = dueAt;
    }

    private void ArmTimer()
    {
        _timer?.Dispose();
        _timer = null;
        if (S.Sla is not { FirstContactAt: null, Paused: false } || S.SlaNextDueAt is not { } due)
        {
            return;
        }

        var wait = due - clock.GetUtcNow();
        _timer = this.RegisterGrainTimer(static (grain, _) => grain.FireDueTimersAsync(), this,
            new GrainTimerCreationOptions(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan) { Interleave = false });
    }

    private static LeadActionResult NotALead() => LeadActionResult.Refused(404, "This customer is not a lead yet (no email or phone known).");

    private LeadView View()
    {
        var (_, customer) = Key;
        return new LeadView(customer, S.Stage, S.Score, S.OwnerId, S.Source, S.RejectionReason, S.Sla, S.History.ToList(), S.Assignments.ToList(), S.CreatedAt, S.UpdatedAt);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} of workspace {WorkspaceId} is now {Stage}: {Reason}")]
    private partial void LogStage(string workspaceId, string leadId, string stage, string reason);
}
