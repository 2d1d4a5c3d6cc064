using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Modulith.Ingestion.Segment;

/// <summary>
/// The common case of <see cref="SegmentNormalizer"/> without a <c>JsonNode</c> tree: one pass over a message reads and
/// checks its top-level fields, a second writes it out with the same changes the tree path makes, in the same order. A
/// message it does not take (an invalid one, ids with escapes or padding, a GA4 event name, a batch's shared context,
/// a name given twice) answers null and goes the tree path, which says what is wrong. Both write the same payload
/// (<c>StreamingNormalizerTests</c>).
/// </summary>
internal static class StreamingNormalizer
{
    /// <summary>The most top-level names a streamed object may have; more go the tree path.</summary>
    public const int MaxTopLevelNames = 64;
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = SegmentNormalizer.StoredPayload.Encoder };

    private enum Field
    {
        Other,
        UserId,
        AnonymousId,
        MessageId,
        PreviousId,
        GroupId,
        Type,
        Event,
        Name,
        Properties,
        Traits,
        Context,
        Integrations,
        Timestamp,
        SentAt,
        OriginalTimestamp,
        ReceivedAt,
        WriteKey,
    }

    /// <summary>
    /// Normalises one message, or answers null for the tree path. <paramref name="routeType"/> is the route's type for a
    /// single message, null for a message of a batch (which names its own).
    /// </summary>
    public static (NormalizedEvent Event, string? WriteKey)? TryNormalize(ReadOnlySpan<byte> json, string? routeType, DateTimeOffset? batchSentAt, DateTimeOffset receivedAt)
    {
        try
        {
            return TryNormalizeCore(json, routeType, batchSentAt, receivedAt);
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON, or not text the writer can take (invalid UTF-8): the tree path says so, or fails as it always did.
            return null;
        }
    }

    private static (NormalizedEvent Event, string? WriteKey)? TryNormalizeCore(ReadOnlySpan<byte> json, string? routeType, DateTimeOffset? batchSentAt, DateTimeOffset receivedAt)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        Span<int> names = stackalloc int[MaxTopLevelNames * 2];
        var count = 0;
        var seen = 0L;
        string? userId = null, anonymousId = null, messageId = null, previousId = null, groupId = null, type = null, eventName = null, writeKey = null;
        DateTimeOffset? timestamp = null, sentAt = null, originalTimestamp = null;
        var eventKind = JsonTokenType.None;
        var nameKind = JsonTokenType.None;
        string? pageName = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!TryNoteName(json, ref reader, names, ref count))
            {
                return null;
            }

            var field = Identify(reader.ValueSpan);
            seen |= 1L << (int)field;
            reader.Read();
            var ok = field switch
            {
                Field.UserId => TryId(ref reader, out userId),
                Field.AnonymousId => TryId(ref reader, out anonymousId),
                Field.MessageId => TryId(ref reader, out messageId),
                Field.PreviousId => TryId(ref reader, out previousId),
                Field.GroupId => TryId(ref reader, out groupId),
                Field.Type => TryOptionalString(ref reader, out type, out _),
                Field.Event => TryOptionalString(ref reader, out eventName, out eventKind),
                Field.Name => TryOptionalString(ref reader, out pageName, out nameKind),
                Field.WriteKey => TryOptionalString(ref reader, out writeKey, out _),
                Field.Properties or Field.Traits or Field.Context or Field.Integrations => IsObjectOrNull(ref reader),
                Field.Timestamp => TryTimestamp(ref reader, out timestamp),
                Field.SentAt => TryTimestamp(ref reader, out sentAt),
                Field.OriginalTimestamp => TryTimestamp(ref reader, out originalTimestamp),
                _ => Skip(ref reader),
            };
            if (!ok)
            {
                return null;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return null;
        }

        if (routeType is not null)
        {
            type = routeType;
        }
        else if (type is null || !SegmentNormalizer.Types.Contains(type))
        {
            return null;
        }

        if (userId is null && anonymousId is null)
        {
            return null;
        }

        string? name = null;
        switch (type)
        {
            case "track":
                name = eventKind == JsonTokenType.String ? eventName!.Trim() : null;
                if (string.IsNullOrEmpty(name) || name.Length > SegmentNormalizer.MaxEventNameLength || Ga4EventNames.ToSegment.ContainsKey(name))
                {
                    return null;
                }

                break;
            case "page" or "screen":
                if (nameKind is not (JsonTokenType.None or JsonTokenType.String or JsonTokenType.Null))
                {
                    return null;
                }

                name = pageName;
                break;
            case "alias" when userId is null || previousId is null:
            case "group" when groupId is null:
                return null;
        }

        sentAt ??= batchSentAt;
        var happened = timestamp ?? originalTimestamp;
        var corrected = SegmentNormalizer.Corrected(happened, sentAt, receivedAt);
        messageId ??= SegmentNormalizer.ServerMessageId(receivedAt);
        var changes = new Changes(type, messageId, corrected.ToString("O", CultureInfo.InvariantCulture), SegmentNormalizer.ReceivedAtText(receivedAt),
            happened is not null && happened != corrected ? happened.Value.ToString("O", CultureInfo.InvariantCulture) : null, userId, anonymousId);
        var payload = Write(json, changes, seen);
        return (new NormalizedEvent(messageId, type, name, userId, anonymousId, previousId, corrected, receivedAt, payload), writeKey);
    }

    private readonly record struct Changes(string Type, string MessageId, string Timestamp, string ReceivedAt, string? OriginalTimestamp, string? UserId, string? AnonymousId);

    // The tree path's changes: writeKey removed; type, messageId, timestamp and receivedAt set; originalTimestamp set when
    // the correction moved it; the ids set when present. A set field keeps its place; a new one goes last, in that order.
    private static string Write(ReadOnlySpan<byte> json, Changes changes, long seen)
    {
        var buffer = new ArrayBufferWriter<byte>(json.Length + 160);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            reader.Read();
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = Identify(reader.ValueSpan);
                var replacement = field switch
                {
                    Field.Type => changes.Type,
                    Field.MessageId => changes.MessageId,
                    Field.Timestamp => changes.Timestamp,
                    Field.ReceivedAt => changes.ReceivedAt,
                    Field.OriginalTimestamp => changes.OriginalTimestamp,
                    Field.UserId => changes.UserId,
                    Field.AnonymousId => changes.AnonymousId,
                    _ => null,
                };
                if (field == Field.WriteKey)
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                writer.WritePropertyName(reader.ValueSpan);
                reader.Read();
                if (replacement is not null)
                {
                    writer.WriteStringValue(replacement);
                    reader.Skip();
                }
                else
                {
                    Copy(ref reader, writer);
                }
            }

            void Append(Field field, string name, string? value)
            {
                if (value is not null && (seen & (1L << (int)field)) == 0)
                {
                    writer.WriteString(name, value);
                }
            }

            Append(Field.Type, "type", changes.Type);
            Append(Field.MessageId, "messageId", changes.MessageId);
            Append(Field.Timestamp, "timestamp", changes.Timestamp);
            Append(Field.ReceivedAt, "receivedAt", changes.ReceivedAt);
            Append(Field.OriginalTimestamp, "originalTimestamp", changes.OriginalTimestamp);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // Writes the value under the reader as JsonElement.WriteTo does: strings and names unescaped, then escaped again by
    // the writer's encoder; numbers as written.
    private static void Copy(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    WriteUnescaped(ref reader, writer, propertyName: true);
                    reader.Read();
                    Copy(ref reader, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonTokenType.StartArray:
                writer.WriteStartArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    Copy(ref reader, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonTokenType.String:
                WriteUnescaped(ref reader, writer, propertyName: false);
                break;
            case JsonTokenType.Number:
                writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                break;
            case JsonTokenType.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonTokenType.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteUnescaped(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool propertyName)
    {
        if (!reader.ValueIsEscaped)
        {
            if (propertyName)
            {
                writer.WritePropertyName(reader.ValueSpan);
            }
            else
            {
                writer.WriteStringValue(reader.ValueSpan);
            }

            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            var unescaped = rented.AsSpan(0, reader.CopyString(rented));
            if (propertyName)
            {
                writer.WritePropertyName(unescaped);
            }
            else
            {
                writer.WriteStringValue(unescaped);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Notes the property name under the reader among an object's top-level names (start and length in <paramref name="json"/>,
    /// two entries each). False when the streaming paths leave the object to the tree: an escaped name, which they do not
    /// compare, one given before, which the tree reports, or more than <see cref="MaxTopLevelNames"/>.
    /// </summary>
    public static bool TryNoteName(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, scoped Span<int> names, ref int count)
    {
        if (reader.ValueIsEscaped || count == MaxTopLevelNames)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (json.Slice(names[2 * i], names[(2 * i) + 1]).SequenceEqual(reader.ValueSpan))
            {
                return false;
            }
        }

        names[2 * count] = (int)reader.TokenStartIndex + 1;
        names[(2 * count) + 1] = reader.ValueSpan.Length;
        count++;
        return true;
    }

    private static bool TryId(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        // Numbers, escapes, padding and empty ids are rare: the tree path handles them.
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.ValueSpan.Length is 0 or > SegmentNormalizer.MaxIdLength)
        {
            return false;
        }

        value = reader.GetString()!;
        return !char.IsWhiteSpace(value[0]) && !char.IsWhiteSpace(value[^1]);
    }

    private static bool TryOptionalString(ref Utf8JsonReader reader, out string? value, out JsonTokenType kind)
    {
        kind = reader.TokenType;
        value = null;
        if (kind == JsonTokenType.String)
        {
            if (reader.ValueIsEscaped)
            {
                return false;
            }

            value = reader.GetString();
            return true;
        }

        reader.Skip();
        return true;
    }

    private static bool IsObjectOrNull(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            reader.Skip();
            return true;
        }

        return reader.TokenType == JsonTokenType.Null;
    }

    private static bool TryTimestamp(ref Utf8JsonReader reader, out DateTimeOffset? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped ||
            !SegmentNormalizer.TryParseTimestamp(reader.GetString(), out var parsed))
        {
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool Skip(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return true;
    }

    private static Field Identify(ReadOnlySpan<byte> name) => name switch
    {
        _ when name.SequenceEqual("userId"u8) => Field.UserId,
        _ when name.SequenceEqual("anonymousId"u8) => Field.AnonymousId,
        _ when name.SequenceEqual("messageId"u8) => Field.MessageId,
        _ when name.SequenceEqual("previousId"u8) => Field.PreviousId,
        _ when name.SequenceEqual("groupId"u8) => Field.GroupId,
        _ when name.SequenceEqual("type"u8) => Field.Type,
        _ when name.SequenceEqual("event"u8) => Field.Event,
        _ when name.SequenceEqual("name"u8) => Field.Name,
        _ when name.SequenceEqual("properties"u8) => Field.Properties,
        _ when name.SequenceEqual("traits"u8) => Field.Traits,
        _ when name.SequenceEqual("context"u8) => Field.Context,
        _ when name.SequenceEqual("integrations"u8) => Field.Integrations,
        _ when name.SequenceEqual("timestamp"u8) => Field.Timestamp,
        _ when name.SequenceEqual("sentAt"u8) => Field.SentAt,
        _ when name.SequenceEqual("originalTimestamp"u8) => Field.OriginalTimestamp,
        _ when name.SequenceEqual("receivedAt"u8) => Field.ReceivedAt,
        _ when name.SequenceEqual("writeKey"u8) => Field.WriteKey,
        _ => Field.Other,
    };
}
