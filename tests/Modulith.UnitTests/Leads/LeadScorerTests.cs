using System.Text.Json;
using Modulith.Leads.Contracts;
using Modulith.Leads.Scoring;

namespace Modulith.UnitTests.Leads;

public sealed class LeadScorerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static ScoredEvent Event(string name, double daysAgo, string? properties = null) =>
        new(Guid.NewGuid().ToString(), name, Now.AddDays(-daysAgo),
            properties is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(properties)!.ToDictionary(p => p.Key, p => p.Value.GetRawText()));

    private static ProfileFacts Profile(bool email = true, double timeOnSite = 150, string traits = "{}") =>
        new(email, false, JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(traits)!.ToDictionary(t => t.Key, t => t.Value.GetRawText()),
            new Dictionary<string, double> { ["timeOnSiteSeconds"] = timeOnSite }, []);

    [Fact]
    public void The_default_model_needs_all_four_mql_signals()
    {
        var model = DefaultScoringModel.Create();
        List<ScoredEvent> events = [Event("Product Viewed", 0), Event("Product Viewed", 0), Event("Product Viewed", 0), Event("Newsletter Subscribed", 0)];
        Assert.True(LeadScorer.Score(model, events, Profile(), Now).MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events.Take(3).ToList(), Profile(), Now).MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events, Profile(timeOnSite: 119), Now).MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events, Profile(email: false), Now).MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events.Skip(1).ToList(), Profile(), Now).MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events, Profile(), Now).SqlCriteriaMet);
        Assert.True(LeadScorer.Score(model, [Event("Checkout Started", 0)], Profile(), Now).SqlCriteriaMet);
    }

    [Fact]
    public void Engagement_points_halve_every_half_life_and_fit_points_do_not_decay()
    {
        var model = new ScoringModel(
            [new("visit", null, "engagement", 10, Events: ["Page Viewed"]), new("fit", null, "fit", 20, Profile: new ProfileCondition(Identity: "email"))],
            EngagementHalfLifeDays: 7, new QualificationCriteria(MinScore: 1), new QualificationCriteria(MinScore: 100));
        var score = LeadScorer.Score(model, [Event("Page Viewed", 0), Event("Page Viewed", 7), Event("Page Viewed", 14)], Profile(), Now);
        Assert.Equal(17.5, score.Engagement);
        Assert.Equal(20, score.Fit);
        Assert.Equal(37.5, score.Total);
    }

    [Fact]
    public void Caps_bound_positive_and_negative_points_and_negative_rules_subtract()
    {
        var model = new ScoringModel(
            [new("views", null, "engagement", 5, Events: ["Product Viewed"], Cap: 12), new("bounce", null, "engagement", -8, Events: ["Email Bounced"], Cap: 10)],
            null, new QualificationCriteria(MinScore: 1), new QualificationCriteria(MinScore: 100));
        var score = LeadScorer.Score(model, [.. Enumerable.Range(0, 5).Select(_ => Event("Product Viewed", 1)), Event("Email Bounced", 1), Event("Email Bounced", 2)], Profile(), Now);
        Assert.Equal(12, score.Rules.Single(r => r.RuleId == "views").Points);
        Assert.Equal(-10, score.Rules.Single(r => r.RuleId == "bounce").Points);
        Assert.Equal(2, score.Engagement);
    }

    [Fact]
    public void Property_filters_windows_and_minimum_counts_decide_whether_an_event_rule_fires()
    {
        var rule = new ScoringRule("shoes", null, "engagement", 1, Events: ["Product Viewed"],
            Where: new Dictionary<string, JsonElement> { ["category"] = JsonSerializer.SerializeToElement(new[] { "Shoes", "Boots" }), ["price"] = JsonSerializer.SerializeToElement(100) },
            WithinDays: 7, MinCount: 2);
        var model = new ScoringModel([rule], null, new QualificationCriteria(AllOf: ["shoes"]), new QualificationCriteria(MinScore: 100));
        List<ScoredEvent> events =
        [
            Event("Product Viewed", 1, """{"category":"shoes","price":"100"}"""),
            Event("Product Viewed", 2, """{"category":"boots","price":100.0}"""),
            Event("Product Viewed", 3, """{"category":"hats","price":100}"""),
            Event("Product Viewed", 9, """{"category":"shoes","price":100}"""),
        ];
        var score = LeadScorer.Score(model, events, Profile(), Now);
        var contribution = Assert.Single(score.Rules);
        Assert.Equal(2, contribution.Count);
        Assert.True(score.MqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, events.Skip(1).ToList(), Profile(), Now).MqlCriteriaMet);
    }

    [Fact]
    public void After_recycling_only_new_events_count()
    {
        var model = DefaultScoringModel.Create();
        Assert.True(LeadScorer.Score(model, [Event("Product Added", 2)], Profile(), Now).SqlCriteriaMet);
        Assert.False(LeadScorer.Score(model, [Event("Product Added", 2)], Profile(), Now, since: Now.AddDays(-1)).SqlCriteriaMet);
    }

    [Theory]
    [InlineData("""{"trait":"plan","op":"eq","value":"PRO"}""", true)]
    [InlineData("""{"trait":"plan","op":"in","value":["free","trial"]}""", false)]
    [InlineData("""{"trait":"employees","op":"gte","value":250}""", true)]
    [InlineData("""{"trait":"title","op":"contains","value":"head"}""", true)]
    [InlineData("""{"trait":"missing","op":"exists"}""", false)]
    [InlineData("""{"trait":"missing","op":"neq","value":"x"}""", true)]
    [InlineData("""{"anyOf":[{"identity":"phone"},{"metric":"timeOnSiteSeconds","op":"gt","value":100}]}""", true)]
    [InlineData("""{"allOf":[{"identity":"phone"},{"identity":"email"}]}""", false)]
    public void Profile_conditions_compare_traits_metrics_and_identities(string condition, bool expected)
    {
        var profile = Profile(traits: """{"plan":"pro","employees":"300","title":"Head of Sales"}""");
        Assert.Equal(expected, LeadScorer.Holds(JsonSerializer.Deserialize<ProfileCondition>(condition, Web)!, profile));
    }

    [Fact]
    public void The_default_model_is_valid_and_a_model_naming_an_unknown_rule_is_not()
    {
        Assert.Null(ScoringModelValidator.Validate(DefaultScoringModel.Create()));
        var broken = DefaultScoringModel.Create() with { Sql = new QualificationCriteria(AnyOf: ["nope"]) };
        Assert.Equal("'sql' refers to unknown rule(s): nope.", ScoringModelValidator.Validate(broken));
    }
}
