using System.Text.Json;

namespace Modulith.Leads.Contracts;

/// <summary>
/// The workspace's shared definition of a qualified lead: rules with points, a fit part and an engagement part, decay
/// of engagement points, and the MQL and SQL criteria. Versioned: every change is a new version, and each lead records
/// the version that scored it.
/// </summary>
/// <param name="Rules">The rules; each has a unique id that criteria and explanations refer to.</param>
/// <param name="EngagementHalfLifeDays">Engagement points from events halve every this many days (null: no decay).</param>
/// <param name="Mql">When a known contact becomes a marketing-qualified lead.</param>
/// <param name="Sql">When a known contact becomes a sales-qualified lead.</param>
/// <param name="Version">Assigned by the server (ignored in a PUT).</param>
/// <param name="CreatedAt">When this version was stored.</param>
/// <param name="CreatedBy">The API key that stored it.</param>
public sealed record ScoringModel(
    IReadOnlyList<ScoringRule>? Rules,
    double? EngagementHalfLifeDays,
    QualificationCriteria? Mql,
    QualificationCriteria? Sql,
    int Version = 0,
    DateTimeOffset? CreatedAt = null,
    string? CreatedBy = null);

/// <summary>
/// One rule. An event rule (<see cref="Events"/>) counts the customer's events with one of the names, matching
/// <see cref="Where"/>, within <see cref="WithinDays"/>: it is satisfied at <see cref="MinCount"/> and earns
/// <see cref="Points"/> per occurrence (engagement points decay with age), at most <see cref="Cap"/> in total. A
/// profile rule (<see cref="Profile"/>) earns its points once while its condition holds.
/// </summary>
/// <param name="Id">Unique id (letters, digits, _ and -).</param>
/// <param name="Description">What it means, for people.</param>
/// <param name="Part"><c>fit</c> (the profile matches the buyer persona) or <c>engagement</c> (behaviour).</param>
/// <param name="Points">Points per occurrence (event rules) or once (profile rules); negative points subtract.</param>
/// <param name="Events">Event names (Segment names, e.g. <c>Product Viewed</c>; page views are <c>Page Viewed</c>).</param>
/// <param name="Where">Property filters: each property must equal the value (or one of the values of an array).</param>
/// <param name="WithinDays">Only events of the last this many days count (null: all).</param>
/// <param name="MinCount">Occurrences needed for the rule to be satisfied (default 1).</param>
/// <param name="Cap">The most points (in absolute value) the rule may give.</param>
/// <param name="Profile">A condition over the profile.</param>
public sealed record ScoringRule(
    string? Id,
    string? Description,
    string? Part,
    double Points,
    IReadOnlyList<string>? Events = null,
    IReadOnlyDictionary<string, JsonElement>? Where = null,
    int? WithinDays = null,
    int? MinCount = null,
    double? Cap = null,
    ProfileCondition? Profile = null);

/// <summary>
/// A condition over the profile: exactly one of <see cref="Trait"/>, <see cref="Metric"/>, <see cref="Identity"/>,
/// <see cref="Consent"/>, <see cref="AnyOf"/> or <see cref="AllOf"/>.
/// </summary>
/// <param name="Trait">A trait name, compared with <see cref="Op"/> and <see cref="Value"/>.</param>
/// <param name="Metric">timeOnSiteSeconds, sessions, pageViews, productViews, events, orders or revenue.</param>
/// <param name="Identity">email, phone or contact (either): the profile has it.</param>
/// <param name="Consent">A consent purpose (e.g. marketing_email): granted.</param>
/// <param name="Op">exists, eq, neq, in, contains, gt, gte, lt, lte (traits); eq, gt, gte, lt, lte (metrics).</param>
/// <param name="Value">The value to compare with (an array for <c>in</c>).</param>
/// <param name="AnyOf">At least one of these holds.</param>
/// <param name="AllOf">All of these hold.</param>
public sealed record ProfileCondition(
    string? Trait = null,
    string? Metric = null,
    string? Identity = null,
    string? Consent = null,
    string? Op = null,
    JsonElement? Value = null,
    IReadOnlyList<ProfileCondition>? AnyOf = null,
    IReadOnlyList<ProfileCondition>? AllOf = null);

/// <summary>When a lead qualifies: every rule of <see cref="AllOf"/> satisfied, at least one of <see cref="AnyOf"/>, and the thresholds.</summary>
/// <param name="AllOf">Rule ids that must all be satisfied.</param>
/// <param name="AnyOf">Rule ids of which at least one must be satisfied.</param>
/// <param name="MinScore">The least total score.</param>
/// <param name="MinFit">The least fit score.</param>
public sealed record QualificationCriteria(IReadOnlyList<string>? AllOf = null, IReadOnlyList<string>? AnyOf = null, double? MinScore = null, double? MinFit = null);

/// <summary>A lead's score with its explanation.</summary>
/// <param name="Total">Fit plus engagement.</param>
/// <param name="Fit">Points from fit rules.</param>
/// <param name="Engagement">Points from engagement rules, decayed.</param>
/// <param name="ModelVersion">The scoring model version.</param>
/// <param name="Rules">Each rule's contribution, the ones that fired first.</param>
/// <param name="MqlCriteriaMet">The MQL criteria hold.</param>
/// <param name="SqlCriteriaMet">The SQL criteria hold.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.LeadScore")]
public sealed record LeadScore(
    [property: Id(0)] double Total,
    [property: Id(1)] double Fit,
    [property: Id(2)] double Engagement,
    [property: Id(3)] int ModelVersion,
    [property: Id(4)] IReadOnlyList<RuleContribution> Rules,
    [property: Id(5)] bool MqlCriteriaMet,
    [property: Id(6)] bool SqlCriteriaMet);

/// <summary>One rule's part of a score.</summary>
/// <param name="RuleId">The rule.</param>
/// <param name="Description">Its description.</param>
/// <param name="Part">fit or engagement.</param>
/// <param name="Satisfied">Whether it fired (enough occurrences, or the condition holds).</param>
/// <param name="Count">Matching events counted (event rules).</param>
/// <param name="Points">Points it contributed.</param>
[GenerateSerializer, Immutable, Alias("modulith.leads.RuleContribution")]
public sealed record RuleContribution(
    [property: Id(0)] string RuleId,
    [property: Id(1)] string? Description,
    [property: Id(2)] string Part,
    [property: Id(3)] bool Satisfied,
    [property: Id(4)] int Count,
    [property: Id(5)] double Points);

/// <summary>Progress of the background rescore after a model change.</summary>
/// <param name="ModelVersion">The model version leads are rescored with.</param>
/// <param name="Total">Leads to rescore.</param>
/// <param name="Done">Leads rescored so far.</param>
/// <param name="Finished">Whether it is done.</param>
public sealed record RescoreProgress(int ModelVersion, int Total, int Done, bool Finished);
