using System.Text.Json;
using Modulith.Segmentation.Segments;
using Modulith.Segmentation.Segments.Preview;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.UnitTests.Segmentation;

public sealed class ColumnEvaluatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("""{"metric":"orders","op":"gte","value":3}""")]
    [InlineData("""{"metric":"revenue","op":"between","value":[100,300]}""")]
    [InlineData("""{"metric":"aov","op":"lt","value":60}""")]
    [InlineData("""{"metric":"orders","op":"in","value":[0,2,5]}""")]
    [InlineData("""{"metric":"daysSinceLastOrder","op":"gt","value":90}""")]
    [InlineData("""{"metric":"daysSinceLastOrder","op":"lte","value":30.5}""")]
    [InlineData("""{"metric":"daysSinceFirstOrder","op":"between","value":[10,200]}""")]
    [InlineData("""{"metric":"lastOrderAt","op":"olderThan","value":"P90D"}""")]
    [InlineData("""{"metric":"lastOrderAt","op":"gte","value":"2026-10-01T00:00:00Z"}""")]
    [InlineData("""{"metric":"firstOrderAt","op":"notExists"}""")]
    [InlineData("""{"metric":"aov","op":"neq","value":50}""")]
    [InlineData("""{"trait":"plan","op":"eq","value":"PRO"}""")]
    [InlineData("""{"trait":"plan","op":"neq","value":"pro"}""")]
    [InlineData("""{"metric":"lifecycle","op":"eq","value":"dormant"}""")]
    [InlineData("""{"consent":"email"}""")]
    [InlineData("""{"all":[{"metric":"orders","op":"gte","value":2},{"not":{"trait":"plan","op":"eq","value":"pro"}}]}""")]
    [InlineData("""{"any":[{"metric":"daysSinceLastOrder","op":"gt","value":90},{"metric":"orders","op":"eq","value":0}]}""")]
    [InlineData("""{"not":{"any":[{"metric":"revenue","op":"gt","value":250},{"consent":"email","granted":false}]}}""")]
    public void Scanning_columns_selects_exactly_the_customers_the_row_evaluator_selects(string json)
    {
        using var document = JsonDocument.Parse(json);
        var rule = RuleParser.Parse(document.RootElement, out _)!;
        var columns = new FactsColumns();
        var random = new Random(11);
        for (var i = 0; i < 3_000; i++)
        {
            var facts = new CustomerFacts
            {
                Traits = random.Next(3) switch
                {
                    0 => new Dictionary<string, string> { ["plan"] = "\"pro\"" },
                    1 => new Dictionary<string, string> { ["plan"] = "\"free\"" },
                    _ => new Dictionary<string, string>(),
                },
                Consents = random.Next(3) switch
                {
                    0 => new Dictionary<string, bool> { ["email"] = true },
                    1 => new Dictionary<string, bool> { ["email"] = false },
                    _ => new Dictionary<string, bool>(),
                },
            };
            if (random.Next(4) > 0)
            {
                facts.Orders = random.Next(1, 7);
                facts.Revenue = random.Next(1, 8) * 50;
                facts.LastOrderAt = Now.AddMinutes(-random.Next(0, 400 * 24 * 60));
                facts.FirstOrderAt = facts.LastOrderAt.Value.AddDays(-random.Next(0, 300));
            }

            columns.Set("c" + i, facts);
        }

        var subject = new PreviewSubject();
        var bits = ColumnEvaluator.Select(rule, columns, subject, Now, LifecycleWindows.Default);
        var selected = ColumnEvaluator.Rows(bits).ToHashSet();
        for (var i = 0; i < columns.Count; i++)
        {
            subject.CustomerId = columns.Ids[i];
            subject.Facts = columns.Rows[i];
            Assert.True(RuleEvaluator.Holds(rule, subject, Now, LifecycleWindows.Default) == selected.Contains(i), $"row {i}");
        }

        Assert.Equal(selected.Count, ColumnEvaluator.Count(bits));
    }
}
