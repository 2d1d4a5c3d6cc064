using System.Globalization;
using Microsoft.Extensions.Logging;
using Modulith.Leads.Contracts;
using Modulith.Leads.Scoring;
using Modulith.Leads.Sla;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Routing;

/// <summary>What assignment rules look at.</summary>
internal sealed record RoutingFacts(string? Country, ProfileFacts Profile, double Revenue);

/// <summary>The assignment made, or why none could be made (with the HTTP status for the API).</summary>
internal sealed record RoutingOutcome(Assignment? Assignment, string? Team, int Status, string? Error);

/// <summary>A rep who may get the lead.</summary>
[GenerateSerializer, Immutable, Alias("modulith.leads.Candidate")]
internal sealed record Candidate([property: Id(0)] string RepId, [property: Id(1)] double Weight, [property: Id(2)] int Load);

/// <summary>Why a rep cannot take a lead now (pure); null when the rep can.</summary>
internal static class RepAvailability
{
    public static string? WhyUnavailable(SalesRep rep, DateTimeOffset now, int load, bool respectWorkingHours)
    {
        if (!rep.Active)
        {
            return "inactive";
        }

        if (rep.OutOfOffice?.FirstOrDefault(p => p.From <= now && now < p.To) is { } away)
        {
            return $"out of office until {away.To.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
        }

        if (rep.Capacity is { } capacity && load >= capacity)
        {
            return $"at capacity ({load}/{capacity} open leads)";
        }

        if (respectWorkingHours && rep.WorkingHours is { Count: > 0 } hours &&
            BusinessCalendar.TryCreate(new BusinessCalendarDefinition("rep", rep.TimeZone ?? "UTC", hours), out _) is { } calendar && !calendar.IsOpen(now))
        {
            return "outside working hours";
        }

        return null;
    }
}

/// <summary>Assigns leads by the SLA policy's strategy, skipping reps who are unavailable or full; every assignment is audited with its reason.</summary>
internal sealed class LeadRouter(SalesRepStore reps, LeadProjectionStore projection, Database database, IGrainFactory grains)
{
    private static readonly HashSet<string> Strategies = ["round_robin", "weighted", "least_loaded", "rules"];

    public static bool IsStrategy(string? strategy) => strategy is null || Strategies.Contains(strategy);

    public async Task<RoutingOutcome> AssignAsync(
        string workspaceId, string leadId, RoutingFacts facts, AssignmentPolicy? policy, string? repId, string by, DateTimeOffset now, string? excludeRep = null, string? reasonPrefix = null)
    {
        var all = await reps.ListAsync(workspaceId);
        var loads = await projection.OpenLeadsByRepAsync(workspaceId);
        policy ??= new AssignmentPolicy();
        Assignment assignment;
        if (repId is not null)
        {
            var rep = all.FirstOrDefault(r => r.Id == repId);
            if (rep is null)
            {
                return new RoutingOutcome(null, null, 400, $"There is no sales rep '{repId}' in this workspace.");
            }

            if (RepAvailability.WhyUnavailable(rep, now, loads.GetValueOrDefault(rep.Id!), respectWorkingHours: false) is { } why)
            {
                return new RoutingOutcome(null, null, 409, $"The rep '{repId}' cannot take the lead: {why}.");
            }

            assignment = new Assignment(rep.Id!, now, by, "manual", $"assigned by {by}");
            return new RoutingOutcome(assignment, rep.Team, 200, null);
        }

        var pool = all.Where(r => policy.Team is null || r.Team == policy.Team).ToList();
        var strategy = policy.Strategy ?? "round_robin";
        var poolKey = policy.Team ?? "*";
        var explanation = new List<string>();
        if (reasonPrefix is not null)
        {
            explanation.Add(reasonPrefix);
        }

        if (strategy == "rules")
        {
            var matched = false;
            for (var i = 0; i < (policy.Rules?.Count ?? 0); i++)
            {
                var rule = policy.Rules![i];
                if (!Matches(rule, facts))
                {
                    continue;
                }

                pool = pool.Where(r => (rule.Team is null || r.Team == rule.Team)
                    && (rule.RepIds is null || rule.RepIds.Contains(r.Id!))
                    && (rule.Skills is null || rule.Skills.All(s => r.Skills?.Contains(s, StringComparer.OrdinalIgnoreCase) == true))
                    && (!rule.MatchTerritory || (facts.Country is not null && r.Territories?.Contains(facts.Country, StringComparer.OrdinalIgnoreCase) == true))).ToList();
                strategy = rule.Strategy ?? "round_robin";
                poolKey = $"{poolKey}/rule{i}";
                explanation.Add($"rule {i + 1} matched ({Describe(rule, facts)})");
                matched = true;
                break;
            }

            if (!matched)
            {
                strategy = "round_robin";
                explanation.Add("no rule matched");
            }
        }

        var skipped = new List<string>();
        var candidates = new List<Candidate>();
        foreach (var rep in pool)
        {
            var load = loads.GetValueOrDefault(rep.Id!);
            var why = rep.Id == excludeRep ? "the owner who let the SLA lapse" : RepAvailability.WhyUnavailable(rep, now, load, policy.RespectWorkingHours);
            if (why is not null)
            {
                skipped.Add($"{rep.Id} ({why})");
                continue;
            }

            candidates.Add(new Candidate(rep.Id!, rep.Weight ?? 1, load));
        }

        if (candidates.Count == 0)
        {
            var detail = pool.Count == 0 ? "no sales reps match" : "every rep is unavailable: " + string.Join(", ", skipped);
            return new RoutingOutcome(null, null, 409, $"No rep can take the lead ({detail}).");
        }

        var picked = await grains.GetGrain<IAssignmentGrain>($"{workspaceId}/{poolKey}").PickAsync(strategy, candidates);
        explanation.Add($"{strategy.Replace('_', ' ')} among {string.Join(", ", candidates.Select(c => c.RepId))}");
        if (skipped.Count > 0)
        {
            explanation.Add("skipped " + string.Join(", ", skipped));
        }

        assignment = new Assignment(picked, now, by, strategy, string.Join("; ", explanation));
        var team = pool.First(r => r.Id == picked).Team;
        return new RoutingOutcome(assignment, team, 200, null);
    }

    private static bool Matches(AssignmentRule rule, RoutingFacts facts) =>
        (rule.Countries is null || (facts.Country is not null && rule.Countries.Contains(facts.Country, StringComparer.OrdinalIgnoreCase))) &&
        (rule.MinOrderValue is null || facts.Revenue >= rule.MinOrderValue) &&
        (rule.When is null || LeadScorer.Holds(rule.When, facts.Profile)) &&
        (!rule.MatchTerritory || facts.Country is not null);

    private static string Describe(AssignmentRule rule, RoutingFacts facts)
    {
        var parts = new List<string>();
        if (rule.Countries is not null || rule.MatchTerritory)
        {
            parts.Add($"country {facts.Country}");
        }

        if (rule.MinOrderValue is { } min)
        {
            parts.Add($"order value {facts.Revenue:0.##} >= {min:0.##}");
        }

        if (rule.When is not null)
        {
            parts.Add("profile condition");
        }

        return parts.Count == 0 ? "always" : string.Join(", ", parts);
    }

    /// <summary>Records an assignment in the audit (the lead's grain does, when it saves the lead as assigned).</summary>
    public async Task AuditAsync(string workspaceId, string leadId, Assignment assignment, string? team)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var command = connection.Command(
            "INSERT INTO lead_assignments (workspace_id, lead_id, at, rep_id, team, strategy, reason) VALUES (@ws, @lead, @at, @rep, @team, @strategy, @reason) ON CONFLICT DO NOTHING")
            .With("ws", workspaceId).With("lead", leadId).With("at", assignment.At.ToUnixTimeMilliseconds()).With("rep", assignment.RepId)
            .With("team", team).With("strategy", assignment.Strategy).With("reason", assignment.Reason);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>Keeps the rotation of one pool of reps (per workspace and team or rule), so concurrent assignments take turns.</summary>
internal interface IAssignmentGrain : IGrainWithStringKey
{
    /// <summary>Picks one of the candidates by the strategy.</summary>
    Task<string> PickAsync(string strategy, IReadOnlyList<Candidate> candidates);
}

[GenerateSerializer, Alias("modulith.leads.AssignmentState")]
internal sealed class AssignmentState
{
    [Id(0)] public string? LastRepId { get; set; }
    [Id(1)] public Dictionary<string, double> CurrentWeights { get; set; } = [];
}

/// <summary>
/// One pool's rotation. Every lead of the pool that qualifies passes through here, so a pick does not wait for a write:
/// the rotation is only a fairness hint (each assignment itself is stored with the lead and audited), so it is stored
/// behind the picks, the picks made during one write together in the next, and once more when the grain deactivates.
/// After a crash the rotation may resume a few picks back.
/// </summary>
internal sealed partial class AssignmentGrain(
    [PersistentState("assignment", LeadsModule.GrainStorage)] IPersistentState<AssignmentState> state, ILogger<AssignmentGrain> logger) : Grain, IAssignmentGrain
{
    private bool _unwritten;
    private Task _writer = Task.CompletedTask;

    public Task<string> PickAsync(string strategy, IReadOnlyList<Candidate> candidates)
    {
        var picked = strategy switch
        {
            "weighted" => Rotation.SmoothWeighted(candidates, state.State.CurrentWeights),
            "least_loaded" => Rotation.LeastLoaded(candidates, state.State.LastRepId),
            _ => Rotation.RoundRobin(candidates, state.State.LastRepId),
        };
        state.State.LastRepId = picked;
        _unwritten = true;
        if (_writer.IsCompleted)
        {
            _writer = WriteWhileChangedAsync();
        }

        return Task.FromResult(picked);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _writer;

    private async Task WriteWhileChangedAsync()
    {
        while (_unwritten)
        {
            _unwritten = false;
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception exception)
            {
                // A version conflict leaves this activation's rotation in doubt: the next activation reads it back.
                LogRotationNotStored(exception, this.GetPrimaryKeyString());
                DeactivateOnIdle();
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The assignment rotation {Pool} was not stored")]
    private partial void LogRotationNotStored(Exception exception, string pool);
}

/// <summary>The rotations (pure).</summary>
internal static class Rotation
{
    /// <summary>The first candidate after the last one picked, in id order (wrapping around).</summary>
    public static string RoundRobin(IReadOnlyList<Candidate> candidates, string? last)
    {
        var ordered = candidates.Select(c => c.RepId).Order(StringComparer.Ordinal).ToList();
        return ordered.FirstOrDefault(id => last is not null && string.CompareOrdinal(id, last) > 0) ?? ordered[0];
    }

    /// <summary>Smooth weighted round robin (as in nginx): over a cycle each rep gets leads in proportion to its weight, evenly spread.</summary>
    public static string SmoothWeighted(IReadOnlyList<Candidate> candidates, Dictionary<string, double> current)
    {
        foreach (var stale in current.Keys.Where(k => !candidates.Any(c => c.RepId == k)).ToList())
        {
            current.Remove(stale);
        }

        var total = candidates.Sum(c => c.Weight);
        foreach (var candidate in candidates)
        {
            current[candidate.RepId] = current.GetValueOrDefault(candidate.RepId) + candidate.Weight;
        }

        var best = candidates.OrderByDescending(c => current[c.RepId]).ThenBy(c => c.RepId, StringComparer.Ordinal).First().RepId;
        current[best] -= total;
        return best;
    }

    /// <summary>The candidate with the fewest open leads relative to its weight; ties go round robin.</summary>
    public static string LeastLoaded(IReadOnlyList<Candidate> candidates, string? last)
    {
        var least = candidates.Min(c => c.Load / c.Weight);
        return RoundRobin(candidates.Where(c => c.Load / c.Weight == least).ToList(), last);
    }
}
