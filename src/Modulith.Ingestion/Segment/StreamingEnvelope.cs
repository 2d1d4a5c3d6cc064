using System.Text.Json;

namespace Modulith.Ingestion.Segment;

/// <summary>
/// A batch's envelope read in one pass, without a <c>JsonNode</c> tree of the whole body: where each message is, the
/// <c>sentAt</c> and the <c>writeKey</c>. Only the plain case: an envelope with anything to report or merge (no batch, an
/// empty one, an element that is not an object, a shared <c>context</c>, a field named twice, escapes in its names or
/// values, an invalid <c>sentAt</c>, invalid JSON) answers null and the batch is read as one tree, which says what is wrong.
/// </summary>
internal sealed record StreamingEnvelope(IReadOnlyList<(int Start, int Length)> Messages, DateTimeOffset? SentAt, string? WriteKey)
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    public static StreamingEnvelope? TryRead(ReadOnlySpan<byte> body)
    {
        try
        {
            return TryReadCore(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static StreamingEnvelope? TryReadCore(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        Span<int> names = stackalloc int[StreamingNormalizer.MaxTopLevelNames * 2];
        var count = 0;
        List<(int Start, int Length)>? messages = null;
        DateTimeOffset? sentAt = null;
        string? writeKey = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!StreamingNormalizer.TryNoteName(body, ref reader, names, ref count))
            {
                return null;
            }

            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("batch"u8))
            {
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    return null;
                }

                messages = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return null;
                    }

                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    messages.Add((start, (int)reader.BytesConsumed - start));
                }
            }
            else if (name.SequenceEqual("sentAt"u8))
            {
                if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && SegmentNormalizer.TryParseTimestamp(reader.GetString(), out var parsed))
                {
                    sentAt = parsed;
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return null;
                }
            }
            else if (name.SequenceEqual("context"u8))
            {
                // A shared context is merged into every message: the tree path's work.
                if (reader.TokenType != JsonTokenType.Null)
                {
                    return null;
                }
            }
            else if (name.SequenceEqual("writeKey"u8))
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    if (reader.ValueIsEscaped)
                    {
                        return null;
                    }

                    writeKey = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || messages is not { Count: > 0 })
        {
            return null;
        }

        return new StreamingEnvelope(messages, sentAt, writeKey);
    }
}
