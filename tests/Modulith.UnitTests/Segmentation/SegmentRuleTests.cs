using System.Text.Json;
using Modulith.Segmentation.Segments;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.UnitTests.Segmentation;

public sealed class SegmentRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private sealed class Subject(CustomerFacts facts, Dictionary<string, List<DateTimeOffset>>? events = null, HashSet<string>? segments = null) : ISegmentSubject
    {
        public CustomerFacts Facts => facts;

        public bool IsMember(string segmentId) => segments?.Contains(segmentId) == true;

        public int Count(EventCount condition, DateTimeOffset now) =>
            events?.GetValueOrDefault(condition.Name)?.Count(at => at > now - condition.Within) ?? 0;

        public DateTimeOffset? FirstLeavesWindow(EventCount condition, DateTimeOffset now) =>
            events?.GetValueOrDefault(condition.Name)?.Where(at => at > now - condition.Within).Select(at => (DateTimeOffset?)at + condition.Within).Min();
    }

    private static Condition Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var rule = RuleParser.Parse(document.RootElement, out var errors);
        Assert.True(rule is not null, string.Join("; ", errors));
        return rule!;
    }

    private static IReadOnlyList<string> Errors(string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Null(RuleParser.Parse(document.RootElement, out var errors));
        return errors;
    }

    private static bool Holds(string rule, CustomerFacts facts, Dictionary<string, List<DateTimeOffset>>? events = null, HashSet<string>? segments = null) =>
        RuleEvaluator.Holds(Parse(rule), new Subject(facts, events, segments), Now, LifecycleWindows.Default);

    [Fact]
    public void And_or_and_not_combine_metric_conditions()
    {
        var facts = new CustomerFacts { Orders = 3, Revenue = 600, LastOrderAt = Now.AddDays(-10), FirstOrderAt = Now.AddDays(-200) };
        Assert.True(Holds("""{"all":[{"metric":"orders","op":"gte","value":2},{"metric":"revenue","op":"between","value":[500,700]}]}""", facts));
        Assert.False(Holds("""{"all":[{"metric":"orders","op":"gte","value":2},{"not":{"metric":"aov","op":"eq","value":200}}]}""", facts));
        Assert.True(Holds("""{"any":[{"metric":"orders","op":"eq","value":0},{"metric":"lifecycle","op":"in","value":["active","new"]}]}""", facts));
    }

    [Fact]
    public void A_missing_value_satisfies_only_not_exists()
    {
        var facts = new CustomerFacts();
        Assert.False(Holds("""{"metric":"daysSinceLastOrder","op":"gt","value":90}""", facts));
        Assert.False(Holds("""{"metric":"daysSinceLastOrder","op":"lte","value":90}""", facts));
        Assert.True(Holds("""{"metric":"lastOrderAt","op":"notExists"}""", facts));
        Assert.False(Holds("""{"trait":"plan","op":"neq","value":"pro"}""", facts));
    }

    [Fact]
    public void Traits_compare_case_insensitively_and_reach_nested_values()
    {
        var facts = new CustomerFacts
        {
            Traits = new Dictionary<string, string> { ["plan"] = "\"Pro\"", ["age"] = "42", ["address"] = """{"city":"Kraków","zip":"30-001"}""", ["vip"] = "true" },
        };
        Assert.True(Holds("""{"trait":"plan","op":"eq","value":"pro"}""", facts));
        Assert.True(Holds("""{"trait":"age","op":"gt","value":40}""", facts));
        Assert.True(Holds("""{"trait":"address.city","op":"startsWith","value":"krak"}""", facts));
        Assert.True(Holds("""{"trait":"vip","op":"eq","value":true}""", facts));
        Assert.False(Holds("""{"trait":"address","op":"exists"}""", facts));
    }

    [Fact]
    public void A_consent_never_reported_is_not_granted()
    {
        var facts = new CustomerFacts { Consents = new Dictionary<string, bool> { ["email"] = true, ["sms"] = false } };
        Assert.True(Holds("""{"consent":"email"}""", facts));
        Assert.False(Holds("""{"consent":"sms"}""", facts));
        Assert.True(Holds("""{"consent":"sms","granted":false}""", facts));
        Assert.True(Holds("""{"consent":"push","granted":false}""", facts));
    }

    [Fact]
    public void Events_count_only_inside_their_window()
    {
        var events = new Dictionary<string, List<DateTimeOffset>> { ["Product Viewed"] = [Now.AddDays(-10), Now.AddDays(-2), Now.AddHours(-1)] };
        Assert.False(Holds("""{"event":"Product Viewed","within":"P7D","op":"gte","value":3}""", new CustomerFacts(), events));
        Assert.True(Holds("""{"event":"Product Viewed","within":"P14D","op":"gte","value":3}""", new CustomerFacts(), events));
        Assert.True(Holds("""{"event":"Product Viewed","within":"PT2H"}""", new CustomerFacts(), events));
        Assert.True(Holds("""{"not":{"event":"Order Completed","within":"P90D"}}""", new CustomerFacts(), events));
    }

    [Fact]
    public void The_next_change_is_the_first_threshold_or_window_end_to_come()
    {
        var facts = new CustomerFacts { Orders = 1, Revenue = 10, FirstOrderAt = Now.AddDays(-100), LastOrderAt = Now.AddDays(-80) };
        var events = new Dictionary<string, List<DateTimeOffset>> { ["Product Viewed"] = [Now.AddDays(-6)] };
        var subject = new Subject(facts, events);
        Assert.Equal(Now.AddDays(10), RuleEvaluator.NextChange(Parse("""{"metric":"lastOrderAt","op":"olderThan","value":"P90D"}"""), subject, Now, LifecycleWindows.Default));
        Assert.Equal(Now.AddDays(1), RuleEvaluator.NextChange(Parse("""{"all":[{"metric":"daysSinceLastOrder","op":"gt","value":90},{"event":"Product Viewed","within":"P7D"}]}"""), subject, Now, LifecycleWindows.Default));
        // active until 90 days after the last order, then dormant
        Assert.Equal(Now.AddDays(10), RuleEvaluator.NextChange(Parse("""{"metric":"lifecycle","op":"eq","value":"active"}"""), subject, Now, LifecycleWindows.Default));
        Assert.Null(RuleEvaluator.NextChange(Parse("""{"metric":"orders","op":"gt","value":1}"""), subject, Now, LifecycleWindows.Default));
    }

    [Fact]
    public void Membership_of_another_segment_is_a_condition()
    {
        Assert.True(Holds("""{"all":[{"segment":"vip"},{"not":{"segment":"churned"}}]}""", new CustomerFacts(), segments: ["vip"]));
        Assert.False(Holds("""{"segment":"vip"}""", new CustomerFacts()));
    }

    [Fact]
    public void Invalid_rules_list_every_error_with_its_path()
    {
        var errors = Errors("""{"all":[{"metric":"revnue","op":"gt","value":1},{"trait":"plan"},{"event":"Viewed","within":"P9999D"},{"metric":"orders","op":"contains","value":"x"},{"a":1,"metric":"orders"}]}""");
        Assert.Contains(errors, e => e.StartsWith("rule.all[0].metric: unknown metric \"revnue\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rule.all[1].op:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rule.all[2].within:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rule.all[3].op:", StringComparison.Ordinal));
        Assert.Single(Errors("""{"metric":"lastOrderAt","op":"gt","value":"yesterday"}"""));
        Assert.Single(Errors("""[]"""));
        Assert.Single(Errors("""{"all":[]}"""));
        Assert.Single(Errors("""{"metric":"orders","op":"gt","value":1,"trait":"x"}"""));
    }

    [Fact]
    public void Rules_may_not_nest_without_end()
    {
        var deep = string.Concat(Enumerable.Repeat("""{"not":""", 20)) + """{"metric":"orders","op":"gt","value":1}""" + new string('}', 20);
        Assert.Contains(Errors(deep), e => e.Contains("nest at most", StringComparison.Ordinal));
    }

    [Fact]
    public void Cycles_between_segments_are_found()
    {
        var others = new Dictionary<string, Condition> { ["b"] = Parse("""{"segment":"c"}"""), ["c"] = Parse("""{"any":[{"segment":"a"},{"metric":"orders","op":"gt","value":1}]}""") };
        Assert.Equal(["a", "b", "c", "a"], SegmentSet.CycleThrough("a", Parse("""{"segment":"b"}"""), others));
        Assert.Null(SegmentSet.CycleThrough("d", Parse("""{"segment":"b"}"""), new Dictionary<string, Condition> { ["b"] = Parse("""{"metric":"orders","op":"gt","value":1}""") }));
    }

    [Fact]
    public void Segments_are_evaluated_after_the_segments_they_refer_to()
    {
        var set = SegmentSet.Compile(
        [
            ("a", "a", 1, """{"segment":"b"}"""),
            ("b", "b", 1, """{"segment":"c"}"""),
            ("c", "c", 1, """{"metric":"orders","op":"gt","value":1}"""),
        ], LifecycleWindows.Default);
        Assert.Equal(["c", "b", "a"], set.Ordered.Select(s => s.Id).ToArray());
    }

    [Theory]
    [InlineData(0, 1, "prospect")]
    [InlineData(10, 10, "new")]
    [InlineData(200, 60, "active")]
    [InlineData(200, 100, "dormant")]
    [InlineData(800, 400, "lost")]
    public void Lifecycle_follows_the_windows(int firstOrderDaysAgo, int lastOrderDaysAgo, string expected)
    {
        var facts = firstOrderDaysAgo == 0 ? new CustomerFacts()
            : new CustomerFacts { Orders = 2, FirstOrderAt = Now.AddDays(-firstOrderDaysAgo), LastOrderAt = Now.AddDays(-lastOrderDaysAgo) };
        Assert.Equal(expected, Lifecycle.Of(facts, Now, LifecycleWindows.Default));
    }
}
