using System.Text.RegularExpressions;
using Modulith.Leads.Contracts;
using Modulith.Leads.Routing;
using Modulith.Leads.Scoring;

namespace Modulith.Leads.Sla;

/// <summary>Checks SLA agreements and sales reps before they are stored (pure).</summary>
internal static partial class SlaValidation
{
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    public static string? Validate(SlaAgreement? agreement)
    {
        if (agreement is null)
        {
            return "An SLA agreement is required.";
        }

        var calendars = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (calendar, i) in (agreement.Calendars ?? []).Select((c, i) => (c, i)))
        {
            if (calendar?.Id is null || !IdPattern().IsMatch(calendar.Id) || !calendars.Add(calendar.Id))
            {
                return $"calendars[{i}]: 'id' is required, unique, 1-64 letters, digits, _ or -.";
            }

            if (BusinessCalendar.TryCreate(calendar, out var error) is null)
            {
                return $"calendars[{i}] ('{calendar.Id}'): {error}.";
            }
        }

        if (agreement.Policies is null)
        {
            return "'policies' is required (it may be empty).";
        }

        var policies = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < agreement.Policies.Count; i++)
        {
            var policy = agreement.Policies[i];
            var at = $"policies[{i}]";
            if (policy?.Id is null || !IdPattern().IsMatch(policy.Id) || !policies.Add(policy.Id))
            {
                return $"{at}: 'id' is required, unique, 1-64 letters, digits, _ or -.";
            }

            at = $"{at} ('{policy.Id}')";
            if (policy.Stage is not (null or LeadStages.Sql or LeadStages.Mql))
            {
                return $"{at}: 'stage' is SQL or MQL.";
            }

            if (SlaEngine.ParseDuration(policy.Within) is not { } within || within <= TimeSpan.Zero || within > TimeSpan.FromDays(365))
            {
                return $"{at}: 'within' must be an ISO 8601 duration between PT1S and P365D (e.g. PT1H).";
            }

            if (policy.Calendar is { } calendar && !calendars.Contains(calendar))
            {
                return $"{at}: the calendar '{calendar}' is not defined in 'calendars'.";
            }

            if (policy.When is { } when && ScoringModelValidator.ValidateCondition(when, $"{at}.when") is { } whenError)
            {
                return whenError;
            }

            var reminders = policy.Reminders ?? [];
            if (reminders.Any(r => !double.IsFinite(r) || r <= 0 || r >= 1) || reminders.Zip(reminders.Skip(1)).Any(p => p.Second <= p.First))
            {
                return $"{at}: 'reminders' are ascending fractions between 0 and 1 (e.g. [0.5, 0.8]).";
            }

            TimeSpan previous = TimeSpan.MinValue;
            foreach (var (step, j) in (policy.Escalations ?? []).Select((s, j) => (s, j)))
            {
                if (SlaEngine.ParseDuration(step?.After ?? "PT0S") is not { } after || after < TimeSpan.Zero || after < previous)
                {
                    return $"{at}.escalations[{j}]: 'after' is an ISO 8601 duration (PT0S at the breach), not earlier than the step before.";
                }

                previous = after;
                if (step!.Notify is not ("owner" or "manager") && !(step.Notify?.StartsWith("rep:", StringComparison.Ordinal) == true && step.Notify.Length > 4) &&
                    !(step.Notify?.StartsWith("email:", StringComparison.Ordinal) == true && EmailPattern().IsMatch(step.Notify[6..])))
                {
                    return $"{at}.escalations[{j}]: 'notify' is owner, manager, rep:{{id}} or email:{{address}}.";
                }
            }

            if (policy.Assignment is { } assignment)
            {
                if (!LeadRouter.IsStrategy(assignment.Strategy))
                {
                    return $"{at}.assignment: 'strategy' is round_robin, weighted, least_loaded or rules.";
                }

                if (assignment.Strategy == "rules" && assignment.Rules is not { Count: > 0 })
                {
                    return $"{at}.assignment: the rules strategy needs 'rules'.";
                }

                foreach (var (rule, j) in (assignment.Rules ?? []).Select((r, j) => (r, j)))
                {
                    if (rule is null || !LeadRouter.IsStrategy(rule.Strategy) || rule.Strategy == "rules")
                    {
                        return $"{at}.assignment.rules[{j}]: 'strategy' is round_robin, weighted or least_loaded.";
                    }

                    if (rule.When is { } condition && ScoringModelValidator.ValidateCondition(condition, $"{at}.assignment.rules[{j}].when") is { } conditionError)
                    {
                        return conditionError;
                    }
                }
            }
        }

        foreach (var (name, id) in new[] { ("emailInstanceId", agreement.Notifications?.EmailInstanceId), ("webhookInstanceId", agreement.Notifications?.WebhookInstanceId) })
        {
            if (id is not null && !id.StartsWith("ci_", StringComparison.Ordinal))
            {
                return $"notifications.{name} must be a connector instance id (ci_...).";
            }
        }

        return agreement.MarketingCommitment is { MqlPerMonth: < 0 } ? "marketingCommitment.mqlPerMonth must not be negative." : null;
    }

    public static string? Validate(SalesRep? rep)
    {
        if (rep is null)
        {
            return "A sales rep is required.";
        }

        if (rep.Id is null || !IdPattern().IsMatch(rep.Id))
        {
            return "'id' is required (1-64 letters, digits, _ or -).";
        }

        if (string.IsNullOrWhiteSpace(rep.Name) || rep.Name.Length > 200)
        {
            return "'name' is required (at most 200 characters).";
        }

        if (rep.Email is { } email && !EmailPattern().IsMatch(email))
        {
            return $"'{email}' is not an email address.";
        }

        if (rep.ManagerId is { } manager && (!IdPattern().IsMatch(manager) || manager == rep.Id))
        {
            return "'managerId' must be another rep's id.";
        }

        if (rep.WorkingHours is { Count: > 0 } || rep.TimeZone is not null)
        {
            var hours = rep.WorkingHours is { Count: > 0 } given ? given : new Dictionary<string, IReadOnlyList<string>> { ["monday"] = ["00:00-24:00"] };
            if (BusinessCalendar.TryCreate(new BusinessCalendarDefinition("rep", rep.TimeZone ?? "UTC", hours), out var error) is null)
            {
                return $"Working hours: {error}.";
            }
        }

        if (rep.OutOfOffice?.Any(p => p.To <= p.From) == true)
        {
            return "Each out-of-office period ends after it starts.";
        }

        if (rep.Capacity is < 0)
        {
            return "'capacity' must not be negative.";
        }

        return rep.Weight is { } weight && (!double.IsFinite(weight) || weight <= 0 || weight > 1000) ? "'weight' is between 0 (exclusive) and 1000." : null;
    }
}
