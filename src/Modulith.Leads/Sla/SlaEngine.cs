using System.Text.Json;
using Microsoft.Extensions.Logging;
using Modulith.Leads.Contracts;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Scoring;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Messaging;
using Modulith.SharedKernel.Time;

namespace Modulith.Leads.Sla;

/// <summary>What a timer firing did.</summary>
internal sealed record SlaFireOutcome(bool Changed, string? Reassign);

/// <summary>
/// The lead SLA: picks the policy for a lead, runs its clock in business time, fires reminders and the escalation
/// chain, and sends the notifications (in-process integration events, email to the reps, a webhook). The lead's grain
/// keeps the clock in its state, with the next due time (<see cref="LeadState.SlaNextDueAt"/>), which the grain also
/// writes to <c>lead_timers</c> beside its state, so a restart or a silo failure loses no timer
/// (<see cref="LeadTimerScanner"/>).
/// </summary>
internal sealed partial class SlaEngine(
    SlaAgreementStore agreements,
    SalesRepStore reps,
    IChannelOutbox outbox,
    IEnumerable<ILeadEventObserver> observers,
    TimeProvider time,
    ILogger<SlaEngine> logger)
{
    private readonly ILeadEventObserver[] _observers = observers.ToArray();

    public static TimeSpan? ParseDuration(string? iso) => IsoDuration.Parse(iso);

    /// <summary>The policy for a lead entering <paramref name="stage"/>: the matching one with the highest priority.</summary>
    public static SlaPolicy? PolicyFor(SlaAgreement agreement, string stage, ProfileFacts profile) =>
        (agreement.Policies ?? [])
            .Where(p => (p.Stage ?? LeadStages.Sql) == stage && (p.When is null || LeadScorer.Holds(p.When, profile)))
            .OrderByDescending(p => p.Priority)
            .FirstOrDefault();

    public static BusinessCalendar CalendarFor(SlaAgreement agreement, SlaPolicy policy) =>
        policy.Calendar is { } id && agreement.Calendars?.FirstOrDefault(c => c.Id == id) is { } definition
            ? BusinessCalendar.TryCreate(definition, out _) ?? BusinessCalendar.AlwaysOpen
            : BusinessCalendar.AlwaysOpen;

    public async Task<SlaPolicy?> PolicyForAsync(string workspaceId, string stage, ProfileFacts profile) =>
        PolicyFor(await agreements.GetAsync(workspaceId), stage, profile);

    /// <summary>Starts a clock for the lead's current stage when a policy covers it; answers null otherwise.</summary>
    public async Task<SlaClock?> StartAsync(string workspaceId, LeadState s, DateTimeOffset now)
    {
        var agreement = await agreements.GetAsync(workspaceId);
        if (PolicyFor(agreement, s.Stage, s.Profile) is not { } policy || ParseDuration(policy.Within) is not { } within)
        {
            s.SlaNextDueAt = null;
            return null;
        }

        s.SlaElapsedBefore = TimeSpan.Zero;
        var clock = new SlaClock(policy.Id!, now, CalendarFor(agreement, policy).Add(now, within), null, false, false, 0, 0);
        s.SlaNextDueAt = NextDue(agreement, policy, clock, s.SlaElapsedBefore);
        return clock;
    }

    public static void StopTimer(LeadState s) => s.SlaNextDueAt = null;

    public async Task<SlaClock> PauseAsync(string workspaceId, LeadState s, bool pause, DateTimeOffset now)
    {
        var agreement = await agreements.GetAsync(workspaceId);
        var clock = s.Sla!;
        var policy = agreement.Policies?.FirstOrDefault(p => p.Id == clock.PolicyId);
        var calendar = policy is null ? BusinessCalendar.AlwaysOpen : CalendarFor(agreement, policy);
        if (pause)
        {
            s.SlaElapsedBefore += calendar.Between(clock.StartedAt, now);
            s.SlaNextDueAt = null;
            return clock with { Paused = true, DueAt = null };
        }

        var within = ParseDuration(policy?.Within) ?? TimeSpan.Zero;
        var resumed = clock with { Paused = false, StartedAt = now, DueAt = calendar.Add(now, within - s.SlaElapsedBefore) };
        s.SlaNextDueAt = policy is null ? resumed.DueAt : NextDue(agreement, policy, resumed, s.SlaElapsedBefore);
        return resumed;
    }

    /// <summary>Sends what is due: reminders, the breach, escalation steps. Idempotent per step (counters in the clock).</summary>
    public async Task<SlaFireOutcome> FireDueAsync(string workspaceId, string leadId, LeadState s, DateTimeOffset now)
    {
        var agreement = await agreements.GetAsync(workspaceId);
        var clock = s.Sla!;
        if (agreement.Policies?.FirstOrDefault(p => p.Id == clock.PolicyId) is not { } policy || ParseDuration(policy.Within) is not { } within)
        {
            StopTimer(s);
            return new SlaFireOutcome(true, null);
        }

        var calendar = CalendarFor(agreement, policy);
        var reminders = policy.Reminders ?? [];
        var changed = false;
        string? reassign = null;
        while (clock.RemindersSent < reminders.Count && ReminderAt(calendar, clock, within, s.SlaElapsedBefore, reminders[clock.RemindersSent]) <= now)
        {
            var fraction = reminders[clock.RemindersSent];
            clock = clock with { RemindersSent = clock.RemindersSent + 1 };
            await NotifyAsync(workspaceId, leadId, s, "sla_reminder", s.OwnerId, $"Reminder: {fraction:P0} of the time to first contact has passed; contact is due at {clock.DueAt:u}.", clock, agreement);
            changed = true;
        }

        if (!clock.Breached && clock.DueAt <= now)
        {
            clock = clock with { Breached = true };
            await NotifyAsync(workspaceId, leadId, s, "sla_breached", s.OwnerId, $"The SLA '{policy.Id}' was breached: no contact by {clock.DueAt:u}.", clock, agreement);
            changed = true;
        }

        var steps = policy.Escalations ?? [];
        while (clock.Breached && clock.EscalationsSent < steps.Count && clock.DueAt + (ParseDuration(steps[clock.EscalationsSent].After) ?? TimeSpan.Zero) <= now)
        {
            var step = steps[clock.EscalationsSent];
            clock = clock with { EscalationsSent = clock.EscalationsSent + 1 };
            var target = await ResolveTargetAsync(workspaceId, step.Notify, s.OwnerId);
            await NotifyAsync(workspaceId, leadId, s, "sla_escalated", target?.Id, $"Escalation {clock.EscalationsSent} ({step.Notify}): lead not contacted by its owner {s.OwnerId ?? "(none)"} since {clock.DueAt:u}.", clock, agreement, target, step.Notify);
            if (step.Reassign)
            {
                reassign = $"re-assigned on escalation {clock.EscalationsSent}";
            }

            changed = true;
        }

        s.Sla = clock;
        var next = NextDue(agreement, policy, clock, s.SlaElapsedBefore);
        if (next != s.SlaNextDueAt)
        {
            s.SlaNextDueAt = next;
            changed = true;
        }

        return new SlaFireOutcome(changed, reassign);
    }

    public Task NotifyAssignedAsync(string workspaceId, string leadId, LeadState s, Assignment assignment) =>
        NotifyAsync(workspaceId, leadId, s, "assigned", assignment.RepId, $"Lead assigned to {assignment.RepId}: {assignment.Reason}", s.Sla, null);

    public async Task PublishContactAsync(string workspaceId, string leadId, LeadState s, DateTimeOffset at, string? channel)
    {
        var leadEvent = new LeadEvent("contacted", workspaceId, leadId, at, s.Stage, s.OwnerId, channel ?? "contact");
        await PublishAsync(leadEvent);
    }

    public async Task PublishStageAsync(string workspaceId, string leadId, LeadState s, StageChange change)
    {
        var leadEvent = new LeadEvent("stage_changed", workspaceId, leadId, change.At, s.Stage, s.OwnerId, $"{change.From} -> {change.To}: {change.Reason}");
        await PublishAsync(leadEvent);
    }

    // The observers are other modules, independent of each other (the contract says so): they are told side by side.
    private Task PublishAsync(LeadEvent leadEvent) => _observers.Length switch
    {
        0 => Task.CompletedTask,
        1 => _observers[0].OnLeadEventAsync(leadEvent),
        _ => Task.WhenAll(_observers.Select(o => o.OnLeadEventAsync(leadEvent))),
    };

    private static DateTimeOffset ReminderAt(BusinessCalendar calendar, SlaClock clock, TimeSpan within, TimeSpan elapsedBefore, double fraction)
    {
        var offset = TimeSpan.FromTicks((long)(within.Ticks * fraction)) - elapsedBefore;
        return offset <= TimeSpan.Zero ? clock.StartedAt : calendar.Add(clock.StartedAt, offset);
    }

    private static DateTimeOffset? NextDue(SlaAgreement agreement, SlaPolicy policy, SlaClock clock, TimeSpan elapsedBefore)
    {
        if (clock.FirstContactAt is not null || clock.Paused || clock.DueAt is not { } due || ParseDuration(policy.Within) is not { } within)
        {
            return null;
        }

        var reminders = policy.Reminders ?? [];
        if (clock.RemindersSent < reminders.Count)
        {
            return ReminderAt(CalendarFor(agreement, policy), clock, within, elapsedBefore, reminders[clock.RemindersSent]);
        }

        if (!clock.Breached)
        {
            return due;
        }

        var steps = policy.Escalations ?? [];
        return clock.EscalationsSent < steps.Count ? due + (ParseDuration(steps[clock.EscalationsSent].After) ?? TimeSpan.Zero) : null;
    }

    private async Task<SalesRep?> ResolveTargetAsync(string workspaceId, string? notify, string? ownerId)
    {
        if (notify is null)
        {
            return null;
        }

        var owner = ownerId is null ? null : await reps.GetAsync(workspaceId, ownerId);
        return notify switch
        {
            "owner" => owner,
            "manager" => owner?.ManagerId is { } manager ? await reps.GetAsync(workspaceId, manager) : null,
            _ when notify.StartsWith("rep:", StringComparison.Ordinal) => await reps.GetAsync(workspaceId, notify[4..]),
            _ when notify.StartsWith("email:", StringComparison.Ordinal) => new SalesRep(null, notify[6..], notify[6..]),
            _ => null,
        };
    }

    private async Task NotifyAsync(
        string workspaceId, string leadId, LeadState s, string kind, string? repId, string detail, SlaClock? clock, SlaAgreement? agreement, SalesRep? recipient = null, string? step = null)
    {
        var leadEvent = new LeadEvent(kind, workspaceId, leadId, time.GetUtcNow(), s.Stage, repId, detail);
        LogLeadEvent(workspaceId, leadId, kind, detail);
        await PublishAsync(leadEvent);

        agreement ??= await agreements.GetAsync(workspaceId);
        var key = $"lead:{leadId}:{kind}:{clock?.StartedAt.ToUnixTimeMilliseconds()}:{clock?.RemindersSent}:{clock?.EscalationsSent}:{repId}";
        recipient ??= repId is null ? null : await reps.GetAsync(workspaceId, repId);
        try
        {
            if (agreement.Notifications?.EmailInstanceId is { } email && recipient?.Email is { Length: > 0 } address)
            {
                await outbox.EnqueueAsync(workspaceId, email, new ChannelMessageRequest(
                    address,
                    Subject: kind switch
                    {
                        "assigned" => "New lead assigned to you",
                        "sla_reminder" => "Reminder: a lead is waiting for your first contact",
                        "sla_breached" => "SLA breached: a lead was not contacted in time",
                        _ => "Escalation: a lead was not contacted in time",
                    },
                    Text: $"{detail}\n\nLead: {leadId}\nStage: {s.Stage}\nScore: {s.Score?.Total:0.##}\nSource: {s.Source.Channel} {s.Source.Source} {s.Source.Campaign}",
                    IdempotencyKey: key,
                    Transactional: true));
            }

            if (agreement.Notifications?.WebhookInstanceId is { } webhook)
            {
                await outbox.EnqueueAsync(workspaceId, webhook, new ChannelMessageRequest(
                    "lead-events",
                    Subject: kind,
                    Text: JsonSerializer.Serialize(new { type = kind, leadEvent.LeadId, leadEvent.At, leadEvent.Stage, leadEvent.RepId, leadEvent.Detail, step, dueAt = clock?.DueAt }, SalesRepStore.Json),
                    IdempotencyKey: key,
                    Transactional: true));
            }
        }
        catch (ChannelMessageRejectedException exception)
        {
            LogNotificationRefused(workspaceId, leadId, kind, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lead {LeadId} of workspace {WorkspaceId}: {Kind}: {Detail}")]
    private partial void LogLeadEvent(string workspaceId, string leadId, string kind, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Kind} notification of lead {LeadId} of workspace {WorkspaceId} was refused: {Reason}")]
    private partial void LogNotificationRefused(string workspaceId, string leadId, string kind, string reason);
}
