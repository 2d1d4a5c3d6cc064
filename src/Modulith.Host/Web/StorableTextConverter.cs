using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modulith.Host.Web;

/// <summary>
/// Reads every string of a management API body as the built-in converter does, but refuses text no store can keep: the
/// NUL character (PostgreSQL's text refuses it, so the request would fail with a 500 after validation), an unpaired
/// surrogate and bytes that are not UTF-8 (which the reader otherwise reports as a 500). The refusal is a JSON error, which
/// the problem handler answers with a 400 naming the field.
/// </summary>
internal sealed class StorableTextConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a string, found {reader.TokenType}.");
        }

        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new JsonException("The text is not valid UTF-8 or holds an unpaired surrogate (\\uD800-\\uDFFF without its pair).");
        }

        return text.Contains('\0', StringComparison.Ordinal)
            ? throw new JsonException("The text contains the NUL character (\\u0000), which cannot be stored.")
            : text;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
