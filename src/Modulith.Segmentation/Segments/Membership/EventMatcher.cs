using System.Text.Json;
using Modulith.Segmentation.Segments.Rules;

namespace Modulith.Segmentation.Segments.Membership;

/// <summary>Whether a stored event counts for an event condition: track events by name, page and screen views as <c>Page Viewed</c> and <c>Screen Viewed</c> (with the page's name as the <c>name</c> property).</summary>
internal static class EventMatcher
{
    public const string PageViewed = "Page Viewed";
    public const string ScreenViewed = "Screen Viewed";

    public static bool NameMatches(EventCount condition, string type, string? name) => type switch
    {
        "track" => name == condition.Name,
        "page" => condition.Name == PageViewed,
        "screen" => condition.Name == ScreenViewed,
        _ => false,
    };

    /// <summary>The log's type and name that hold the events a condition counts.</summary>
    public static (string Type, string? Name) Stored(EventCount condition) => condition.Name switch
    {
        PageViewed => ("page", null),
        ScreenViewed => ("screen", null),
        _ => ("track", condition.Name),
    };

    public static bool Matches(EventCount condition, string type, string? name, string payload)
    {
        if (!NameMatches(condition, type, name))
        {
            return false;
        }

        if (condition.Where.Count == 0)
        {
            return true;
        }

        using var document = JsonDocument.Parse(payload);
        var properties = document.RootElement.TryGetProperty("properties", out var values) && values.ValueKind == JsonValueKind.Object ? values : default;
        foreach (var filter in condition.Where)
        {
            Operand? actual = filter.Path is ["name"] && type != "track" && name is not null ? Operand.Of(name)
                : properties.ValueKind == JsonValueKind.Object ? RuleEvaluator.Walk(properties, filter.Path) : null;
            if (!filter.Comparison.Holds(actual, DateTimeOffset.MinValue))
            {
                return false;
            }
        }

        return true;
    }
}
