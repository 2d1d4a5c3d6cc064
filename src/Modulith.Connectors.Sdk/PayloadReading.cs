using System.Globalization;
using System.Text.Json;

namespace Modulith.Connectors.Sdk;

/// <summary>Lenient readers for platform JSON payloads, where ids and amounts come as strings or numbers and empty strings mean "absent".</summary>
public static class PayloadReading
{
    /// <summary>A string or number property as text; null when absent, null or empty.</summary>
    public static string? Text(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : null,
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    /// <summary>An amount given as a string ("409.94") or a number.</summary>
    public static decimal? Money(this JsonElement element, string property) =>
        element.Text(property) is { } text && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount) ? amount : null;

    /// <summary>An ISO 8601 date-time; <paramref name="assumeUtc"/> for platforms whose GMT fields carry no offset (WooCommerce).</summary>
    public static DateTimeOffset? Date(this JsonElement element, string property, bool assumeUtc = false) =>
        element.Text(property) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            assumeUtc ? DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal : DateTimeStyles.None, out var at) ? at : null;

    /// <summary>A whole-number property, or <paramref name="fallback"/>.</summary>
    public static int Integer(this JsonElement element, string property, int fallback) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : fallback;
}
