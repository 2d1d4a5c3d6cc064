using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Modulith.Ingestion.Segment;

/// <summary>A validated event ready to be appended.</summary>
internal sealed record NormalizedEvent(
    string MessageId,
    string Type,
    string? Name,
    string? UserId,
    string? AnonymousId,
    string? PreviousId,
    DateTimeOffset Timestamp,
    DateTimeOffset ReceivedAt,
    string Payload)
{
    /// <summary>The dispatch partition: stable for a given workspace and primary id, so one visitor's events stay in order.</summary>
    public int Partition(string workspaceId) => SegmentNormalizer.PartitionOf(workspaceId, UserId ?? AnonymousId ?? MessageId);
}

/// <summary>The outcome of validating one request.</summary>
internal sealed record NormalizeResult(IReadOnlyList<NormalizedEvent> Events, string? Error, string? WriteKey)
{
    public static NormalizeResult Fail(string error) => new([], error, null);
}

/// <summary>Validates and normalises Segment HTTP Tracking API bodies (pure: no I/O, the clock is passed in).</summary>
internal static class SegmentNormalizer
{
    public const int MaxEventBytes = 32 * 1024;
    public const int MaxBatchBytes = 500 * 1024;
    public const int PartitionCount = 16;
    public const int MaxIdLength = 256;
    public const int MaxEventNameLength = 200;

    public static readonly IReadOnlyDictionary<string, string> RouteTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["track"] = "track", ["t"] = "track",
        ["identify"] = "identify", ["i"] = "identify",
        ["page"] = "page", ["p"] = "page",
        ["screen"] = "screen", ["s"] = "screen",
        ["group"] = "group", ["g"] = "group",
        ["alias"] = "alias", ["a"] = "alias",
    };

    // A JsonObject's fields are read into a dictionary, which refuses a name given twice (ArgumentException, parameter "key").
    private const string NamedTwice = "An object in the body names the same field more than once.";

    public static readonly HashSet<string> Types = ["track", "identify", "page", "screen", "group", "alias"];

    // The log keeps what the client sent: a plus sign or a letter outside ASCII stays itself instead of a \u escape, so
    // a payload is shorter, a value matches as written (an email with a plus in it, for erasure), and a payload has a
    // backslash only where the JSON needs one (identity resolution parses only payloads with traits or escapes). No
    // payload is ever embedded into HTML as it is stored.
    public static readonly JsonSerializerOptions StoredPayload = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static int PartitionOf(string workspaceId, string key)
    {
        // FNV-1a: stable across processes and versions, which string.GetHashCode is not.
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(workspaceId + "\n" + key))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % PartitionCount);
    }

    /// <summary>
    /// Parses a single message posted to the route of <paramref name="type"/>. <paramref name="streaming"/> false takes
    /// the tree path for every message (the reference the streaming path is tested and measured against).
    /// </summary>
    public static NormalizeResult NormalizeSingle(ReadOnlySpan<byte> body, string type, DateTimeOffset receivedAt, bool streaming = true)
    {
        try
        {
            return NormalizeSingleCore(body, type, receivedAt, streaming);
        }
        catch (ArgumentException exception) when (exception.ParamName == "key")
        {
            return NormalizeResult.Fail(NamedTwice);
        }
    }

    /// <summary>Parses a batch: every message must be valid, or none is stored. <paramref name="streaming"/> as for a single message.</summary>
    public static NormalizeResult NormalizeBatch(ReadOnlySpan<byte> body, DateTimeOffset receivedAt, bool streaming = true)
    {
        try
        {
            return NormalizeBatchCore(body, receivedAt, streaming);
        }
        catch (ArgumentException exception) when (exception.ParamName == "key")
        {
            return NormalizeResult.Fail(NamedTwice);
        }
    }

    private static NormalizeResult NormalizeSingleCore(ReadOnlySpan<byte> body, string type, DateTimeOffset receivedAt, bool streaming)
    {
        if (body.Length > MaxEventBytes)
        {
            return NormalizeResult.Fail($"The event is {body.Length} bytes; the limit is {MaxEventBytes} bytes (32 KB).");
        }

        if (UnstorableText(body) is { } unstorable)
        {
            return NormalizeResult.Fail(unstorable);
        }

        if (streaming && StreamingNormalizer.TryNormalize(body, type, batchSentAt: null, receivedAt) is { } streamed)
        {
            return new NormalizeResult([streamed.Event], null, streamed.WriteKey);
        }

        if (!TryParseObject(body, out var message, out var error))
        {
            return NormalizeResult.Fail(error);
        }

        var writeKey = StringOf(message["writeKey"]);
        var result = Normalize(message, type, batchSentAt: null, sharedContext: null, receivedAt, index: null);
        return result.Error is null ? new NormalizeResult([result.Event!], null, writeKey) : NormalizeResult.Fail(result.Error);
    }

    private static NormalizeResult NormalizeBatchCore(ReadOnlySpan<byte> body, DateTimeOffset receivedAt, bool streaming)
    {
        if (body.Length > MaxBatchBytes)
        {
            return NormalizeResult.Fail($"The batch is {body.Length} bytes; the limit is {MaxBatchBytes} bytes (500 KB).");
        }

        if (UnstorableText(body) is { } unstorable)
        {
            return NormalizeResult.Fail(unstorable);
        }

        if (streaming && StreamingEnvelope.TryRead(body) is { } plain)
        {
            return NormalizeStreamedBatch(body, plain, receivedAt);
        }

        if (!TryParseObject(body, out var envelope, out var error))
        {
            return NormalizeResult.Fail(error);
        }

        if (envelope["batch"] is not JsonArray batch)
        {
            return NormalizeResult.Fail("'batch' must be an array of messages.");
        }

        if (batch.Count == 0)
        {
            return NormalizeResult.Fail("'batch' is empty.");
        }

        if (!TryTimestamp(envelope["sentAt"], "sentAt", out var sentAt, out error))
        {
            return NormalizeResult.Fail(error);
        }

        if (envelope["context"] is { } context && context is not JsonObject)
        {
            return NormalizeResult.Fail("'context' must be an object.");
        }

        var ranges = MessageRanges(body);
        var measured = ranges?.Count == batch.Count;
        var sharedContext = envelope["context"] as JsonObject;
        var events = new List<NormalizedEvent>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i] is not JsonObject message)
            {
                return NormalizeResult.Fail($"batch[{i}]: each message must be a JSON object.");
            }

            var size = measured ? ranges![i].Length : Encoding.UTF8.GetByteCount(message.ToJsonString());
            if (size > MaxEventBytes)
            {
                return NormalizeResult.Fail($"batch[{i}]: the event is {size} bytes; the limit is {MaxEventBytes} bytes (32 KB).");
            }

            // A shared context is merged into each message's own, a change below the top level: the tree path's.
            if (streaming && measured && sharedContext is null &&
                StreamingNormalizer.TryNormalize(body.Slice(ranges![i].Start, ranges[i].Length), routeType: null, sentAt, receivedAt) is { } streamed)
            {
                events.Add(streamed.Event);
                continue;
            }

            var type = StringOf(message["type"]);
            if (type is null || !Types.Contains(type))
            {
                return NormalizeResult.Fail($"batch[{i}]: 'type' must be one of track, identify, page, screen, group, alias.");
            }

            var result = Normalize(message, type, sentAt, sharedContext, receivedAt, i);
            if (result.Error is not null)
            {
                return NormalizeResult.Fail(result.Error);
            }

            events.Add(result.Event!);
        }

        return new NormalizeResult(events, null, StringOf(envelope["writeKey"]));
    }

    // A batch whose envelope read plainly (StreamingEnvelope): each message streamed, or parsed on its own for the tree
    // path, with the same checks and messages as a batch read as one tree.
    private static NormalizeResult NormalizeStreamedBatch(ReadOnlySpan<byte> body, StreamingEnvelope envelope, DateTimeOffset receivedAt)
    {
        var events = new List<NormalizedEvent>(envelope.Messages.Count);
        for (var i = 0; i < envelope.Messages.Count; i++)
        {
            var (start, length) = envelope.Messages[i];
            if (length > MaxEventBytes)
            {
                return NormalizeResult.Fail($"batch[{i}]: the event is {length} bytes; the limit is {MaxEventBytes} bytes (32 KB).");
            }

            var json = body.Slice(start, length);
            if (StreamingNormalizer.TryNormalize(json, routeType: null, envelope.SentAt, receivedAt) is { } streamed)
            {
                events.Add(streamed.Event);
                continue;
            }

            var message = (JsonObject)JsonNode.Parse(json, documentOptions: DocumentOptions)!;
            var type = StringOf(message["type"]);
            if (type is null || !Types.Contains(type))
            {
                return NormalizeResult.Fail($"batch[{i}]: 'type' must be one of track, identify, page, screen, group, alias.");
            }

            var result = Normalize(message, type, envelope.SentAt, sharedContext: null, receivedAt, i);
            if (result.Error is not null)
            {
                return NormalizeResult.Fail(result.Error);
            }

            events.Add(result.Event!);
        }

        return new NormalizeResult(events, null, envelope.WriteKey);
    }

    private static (NormalizedEvent? Event, string? Error) Normalize(
        JsonObject message, string type, DateTimeOffset? batchSentAt, JsonObject? sharedContext, DateTimeOffset receivedAt, int? index)
    {
        var at = index is null ? string.Empty : $"batch[{index}]: ";
        string? Fail(string text) => at + text;

        if (!TryId(message["userId"], "userId", out var userId, out var error) ||
            !TryId(message["anonymousId"], "anonymousId", out var anonymousId, out error) ||
            !TryId(message["messageId"], "messageId", out var messageId, out error) ||
            !TryId(message["previousId"], "previousId", out var previousId, out error) ||
            !TryId(message["groupId"], "groupId", out var groupId, out error))
        {
            return (null, Fail(error));
        }

        if (userId is null && anonymousId is null)
        {
            return (null, Fail("Either 'userId' or 'anonymousId' is required."));
        }

        foreach (var field in (string[])["properties", "traits", "context", "integrations"])
        {
            if (message[field] is { } value && value is not JsonObject)
            {
                return (null, Fail($"'{field}' must be an object."));
            }
        }

        string? name = null;
        switch (type)
        {
            case "track":
                name = StringOf(message["event"])?.Trim();
                if (string.IsNullOrEmpty(name))
                {
                    return (null, Fail("'event' is required for track and must be a non-empty string."));
                }

                if (name.Length > MaxEventNameLength)
                {
                    return (null, Fail($"'event' is longer than {MaxEventNameLength} characters."));
                }

                if (Ga4EventNames.ToSegment.TryGetValue(name, out var mapped))
                {
                    message["originalEvent"] = name;
                    message["event"] = mapped;
                    MapGa4Properties(message["properties"] as JsonObject);
                    name = mapped;
                }

                break;
            case "page" or "screen":
                if (message["name"] is { } pageName && pageName.GetValueKind() != JsonValueKind.String)
                {
                    return (null, Fail($"'name' must be a string for {type}."));
                }

                name = StringOf(message["name"]);
                break;
            case "alias":
                if (userId is null || previousId is null)
                {
                    return (null, Fail("alias requires both 'userId' and 'previousId'."));
                }

                break;
            case "group":
                if (groupId is null)
                {
                    return (null, Fail("'groupId' is required for group."));
                }

                break;
        }

        if (!TryTimestamp(message["timestamp"], "timestamp", out var timestamp, out error) ||
            !TryTimestamp(message["sentAt"], "sentAt", out var sentAt, out error) ||
            !TryTimestamp(message["originalTimestamp"], "originalTimestamp", out var originalTimestamp, out error))
        {
            return (null, Fail(error));
        }

        sentAt ??= batchSentAt;
        var happened = timestamp ?? originalTimestamp;
        var corrected = Corrected(happened, sentAt, receivedAt);

        if (sharedContext is not null)
        {
            var context = message["context"] as JsonObject ?? [];
            foreach (var (key, value) in sharedContext)
            {
                if (!context.ContainsKey(key))
                {
                    context[key] = value?.DeepClone();
                }
            }

            message["context"] = context;
        }

        messageId ??= ServerMessageId(receivedAt);
        message.Remove("writeKey");
        message["type"] = type;
        message["messageId"] = messageId;
        message["timestamp"] = corrected.ToString("O", CultureInfo.InvariantCulture);
        message["receivedAt"] = ReceivedAtText(receivedAt);
        if (happened is not null && happened != corrected)
        {
            message["originalTimestamp"] = happened.Value.ToString("O", CultureInfo.InvariantCulture);
        }

        if (userId is not null)
        {
            message["userId"] = userId;
        }

        if (anonymousId is not null)
        {
            message["anonymousId"] = anonymousId;
        }

        return (new NormalizedEvent(messageId, type, name, userId, anonymousId, previousId, corrected, receivedAt, message.ToJsonString(StoredPayload)), null);
    }

    /// <summary>
    /// Segment's clock-skew correction: the client's offset between sending and happening, applied to the server's receive
    /// time; a time more than a day ahead of the server's is taken as the receive time.
    /// </summary>
    public static DateTimeOffset Corrected(DateTimeOffset? happened, DateTimeOffset? sentAt, DateTimeOffset receivedAt)
    {
        var corrected = happened is null ? receivedAt : sentAt is null ? happened.Value : receivedAt - (sentAt.Value - happened.Value);
        return corrected > receivedAt.AddDays(1) ? receivedAt : corrected;
    }

    /// <summary>The id of a message sent without one.</summary>
    public static string ServerMessageId(DateTimeOffset receivedAt) => "srv-" + Guid.CreateVersion7(receivedAt).ToString("N");

    private static FormattedTime? _lastReceivedAt;

    /// <summary>
    /// The receive time as stored ("O"): every message of a request has the same one, so the last one formatted is kept
    /// (one reference, swapped whole, so concurrent requests at most format again).
    /// </summary>
    public static string ReceivedAtText(DateTimeOffset receivedAt)
    {
        var last = Volatile.Read(ref _lastReceivedAt);
        if (last is not null && last.At.EqualsExact(receivedAt))
        {
            return last.Text;
        }

        var text = receivedAt.ToString("O", CultureInfo.InvariantCulture);
        Volatile.Write(ref _lastReceivedAt, new FormattedTime(receivedAt, text));
        return text;
    }

    private sealed record FormattedTime(DateTimeOffset At, string Text);

    public static bool TryParseTimestamp(string? text, out DateTimeOffset value) =>
        TryParseIsoTimestamp(text, out value) ||
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>
    /// The shape Segment's clients send (JavaScript's <c>toISOString</c>, or with an offset): <c>yyyy-MM-ddTHH:mm:ss</c>,
    /// an optional fraction of 1 to 7 digits, then <c>Z</c> or <c>±hh:mm</c>, read at fixed places, as UTC. Anything else
    /// answers false and goes to the general parser, which reads this shape to the same instant, only slower.
    /// </summary>
    public static bool TryParseIsoTimestamp(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null || text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!TryDigits(text, 0, 4, out var year) || !TryDigits(text, 5, 2, out var month) || !TryDigits(text, 8, 2, out var day) ||
            !TryDigits(text, 11, 2, out var hour) || !TryDigits(text, 14, 2, out var minute) || !TryDigits(text, 17, 2, out var second) ||
            year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var at = 19;
        long ticks = 0;
        if (text[at] == '.')
        {
            var digits = 0;
            at++;
            while (at < text.Length && char.IsAsciiDigit(text[at]) && digits < 7)
            {
                ticks = (ticks * 10) + (text[at] - '0');
                digits++;
                at++;
            }

            if (digits == 0 || (at < text.Length && char.IsAsciiDigit(text[at])))
            {
                return false;
            }

            for (; digits < 7; digits++)
            {
                ticks *= 10;
            }
        }

        TimeSpan offset;
        if (at == text.Length - 1 && text[at] == 'Z')
        {
            offset = TimeSpan.Zero;
        }
        else if (at == text.Length - 6 && text[at] is '+' or '-' && text[at + 3] == ':' &&
            TryDigits(text, at + 1, 2, out var offsetHours) && TryDigits(text, at + 4, 2, out var offsetMinutes) && offsetHours <= 14 && offsetMinutes <= 59 &&
            (offsetHours < 14 || offsetMinutes == 0))
        {
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (text[at] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        var utcTicks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks + ticks - offset.Ticks;
        if (utcTicks < 0 || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        value = new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(string text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }

            value = (value * 10) + (text[i] - '0');
        }

        return true;
    }

    private static void MapGa4Properties(JsonObject? properties)
    {
        if (properties is null)
        {
            return;
        }

        foreach (var (ga4, segment) in Ga4EventNames.Properties)
        {
            if (properties.ContainsKey(ga4) && !properties.ContainsKey(segment))
            {
                properties[segment] = properties[ga4]?.DeepClone();
            }
        }

        if (properties["total"] is { } total && !properties.ContainsKey("revenue"))
        {
            properties["revenue"] = total.DeepClone();
        }

        if (properties["products"] is JsonArray items)
        {
            foreach (var item in items.OfType<JsonObject>())
            {
                foreach (var (ga4, segment) in Ga4EventNames.ItemProperties)
                {
                    if (item.ContainsKey(ga4) && !item.ContainsKey(segment))
                    {
                        item[segment] = item[ga4]?.DeepClone();
                    }
                }
            }
        }
    }

    /// <summary>
    /// Text that cannot be stored: the NUL character (PostgreSQL's text refuses it, and an event log row or a profile field
    /// holding it would fail the whole group commit or every later write of the profile) and an unpaired surrogate (not
    /// text at all). Bytes that are not UTF-8 are refused first (the JSON reader does not check strings' encoding); after
    /// that both can only come as <c>\u</c> escapes, so a body without one is not read again. Answers the error, or null
    /// (also for invalid JSON, which the parse reports).
    /// </summary>
    public static string? UnstorableText(ReadOnlySpan<byte> json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            return "The body is not valid UTF-8 text.";
        }

        if (json.IndexOf("\\u"u8) < 0)
        {
            return null;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        byte[]? rented = null;
        var field = "(top level)";
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String))
                {
                    continue;
                }

                if (reader.ValueIsEscaped)
                {
                    // Unescaped text is never longer than the body it was read from.
                    rented ??= ArrayPool<byte>.Shared.Rent(json.Length);
                    int length;
                    try
                    {
                        length = reader.CopyString(rented);
                    }
                    catch (InvalidOperationException)
                    {
                        return reader.TokenType == JsonTokenType.PropertyName
                            ? "A field name in the body contains an unpaired surrogate escape (\\uD800-\\uDFFF without its pair), which is not text."
                            : $"The value of '{field}' contains an unpaired surrogate escape (\\uD800-\\uDFFF without its pair), which is not text.";
                    }

                    if (rented.AsSpan(0, length).Contains((byte)0))
                    {
                        return reader.TokenType == JsonTokenType.PropertyName
                            ? "A field name in the body contains the NUL character (\\u0000), which cannot be stored."
                            : $"The value of '{field}' contains the NUL character (\\u0000), which cannot be stored.";
                    }
                }

                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    field = reader.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return null;
    }

    // Where each message is in the body and its size as sent, read from the body instead of writing every message out
    // again to measure it. Null when the body's top level does not name exactly one "batch" array; the caller then
    // measures the parsed messages.
    private static List<(int Start, int Length)>? MessageRanges(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        List<(int Start, int Length)>? sizes = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isBatch = reader.ValueTextEquals("batch"u8);
            reader.Read();
            if (!isBatch)
            {
                reader.Skip();
                continue;
            }

            if (sizes is not null || reader.TokenType != JsonTokenType.StartArray)
            {
                return null;
            }

            sizes = [];
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                sizes.Add((start, (int)reader.BytesConsumed - start));
            }
        }

        return sizes;
    }

    private static bool TryParseObject(ReadOnlySpan<byte> body, out JsonObject message, out string error)
    {
        message = null!;
        error = string.Empty;
        if (body.IsEmpty)
        {
            error = "The body is empty; send a JSON object.";
            return false;
        }

        try
        {
            var node = JsonNode.Parse(body, documentOptions: DocumentOptions);
            if (node is JsonObject obj)
            {
                message = obj;
                return true;
            }

            error = "The body must be a JSON object.";
            return false;
        }
        catch (JsonException exception)
        {
            error = $"The body is not valid JSON: {exception.Message}";
            return false;
        }
    }

    private static bool TryId(JsonNode? node, string field, out string? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (node is null)
        {
            return true;
        }

        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                value = node.GetValue<string>().Trim();
                break;
            case JsonValueKind.Number:
                value = node.ToJsonString();
                break;
            case JsonValueKind.Null:
                return true;
            default:
                error = $"'{field}' must be a string or a number.";
                return false;
        }

        if (value.Length == 0)
        {
            value = null;
            return true;
        }

        if (value.Length > MaxIdLength)
        {
            error = $"'{field}' is longer than {MaxIdLength} characters.";
            return false;
        }

        return true;
    }

    private static bool TryTimestamp(JsonNode? node, string field, out DateTimeOffset? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (node is null || node.GetValueKind() == JsonValueKind.Null)
        {
            return true;
        }

        if (node.GetValueKind() == JsonValueKind.String &&
            TryParseTimestamp(node.GetValue<string>(), out var parsed))
        {
            value = parsed;
            return true;
        }

        error = $"'{field}' must be an ISO 8601 date-time string.";
        return false;
    }

    private static string? StringOf(JsonNode? node) =>
        node is not null && node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
}
