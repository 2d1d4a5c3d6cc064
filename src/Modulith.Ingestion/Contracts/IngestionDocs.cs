using System.Text.Json.Nodes;

namespace Modulith.Ingestion.Contracts;

/// <summary>A Segment spec message (track, identify, page, screen, group or alias), as documented by the OpenAPI document.</summary>
public sealed class SegmentMessage
{
    /// <summary>In a batch: the message type. On the single-message routes the route decides.</summary>
    public string? Type { get; set; }

    /// <summary>The shop's id of the customer. userId or anonymousId is required.</summary>
    public string? UserId { get; set; }

    /// <summary>A cookie or device id. userId or anonymousId is required.</summary>
    public string? AnonymousId { get; set; }

    /// <summary>Unique per message; a repeated messageId in the workspace is acknowledged and ignored.</summary>
    public string? MessageId { get; set; }

    /// <summary>track: the event name (Segment e-commerce v2; GA4 names such as add_to_cart are mapped).</summary>
    public string? Event { get; set; }

    /// <summary>page and screen: the name.</summary>
    public string? Name { get; set; }

    /// <summary>alias: the previous id to link to userId.</summary>
    public string? PreviousId { get; set; }

    /// <summary>group: the group (company) id.</summary>
    public string? GroupId { get; set; }

    /// <summary>track, page, screen: the properties.</summary>
    public JsonObject? Properties { get; set; }

    /// <summary>identify, group: the traits (email, phone, firstName ...).</summary>
    public JsonObject? Traits { get; set; }

    /// <summary>Context: campaign (UTM), page (url, referrer), ip, userAgent, traits ...</summary>
    public JsonObject? Context { get; set; }

    /// <summary>When it happened (ISO 8601); corrected for clock skew with sentAt.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>When the client sent it (ISO 8601).</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>The write key, when not sent with HTTP Basic authentication.</summary>
    public string? WriteKey { get; set; }
}

/// <summary>A batch of Segment messages (at most 500 KB, each message at most 32 KB).</summary>
public sealed class SegmentBatch
{
    /// <summary>The messages, each with its type.</summary>
    public IReadOnlyList<SegmentMessage> Batch { get; set; } = [];

    /// <summary>Context merged into every message.</summary>
    public JsonObject? Context { get; set; }

    /// <summary>When the client sent the batch.</summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>The write key, when not sent with HTTP Basic authentication.</summary>
    public string? WriteKey { get; set; }
}

/// <summary>The answer to an accepted message or batch.</summary>
/// <param name="Success">Always true: the events are durably stored.</param>
public sealed record IngestionAccepted(bool Success);
