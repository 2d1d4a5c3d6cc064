namespace Modulith.Connectors.Sdk;

/// <summary>The settings of one connector instance (one shop's connection), secrets already decrypted.</summary>
/// <param name="InstanceId">The instance id.</param>
/// <param name="WorkspaceId">The workspace the instance belongs to.</param>
/// <param name="Values">Setting values by name.</param>
public sealed record ConnectorSettings(string InstanceId, string WorkspaceId, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>A required setting's value.</summary>
    public string Required(string name) =>
        Values.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : throw new KeyNotFoundException($"The setting '{name}' is not set.");
}

/// <summary>An inbound webhook as the host received it: the raw body and headers, untouched, for signature checks.</summary>
/// <param name="Headers">Request headers (case-insensitive names).</param>
/// <param name="Body">The raw request body.</param>
/// <param name="ContentType">The request's content type.</param>
/// <param name="ReceivedAt">When the host received it.</param>
public sealed record InboundWebhook(IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body, string? ContentType, DateTimeOffset ReceivedAt)
{
    /// <summary>The query string's values (some providers authenticate callbacks with a token in the URL).</summary>
    public IReadOnlyDictionary<string, string> Query { get; init; } = new Dictionary<string, string>();
}

/// <summary>The connector's verdict on an inbound webhook.</summary>
/// <param name="Outcome">Accepted, rejected (bad signature: the host answers 401 and stores nothing) or acknowledged without data (a ping).</param>
/// <param name="DeduplicationKey">The provider's id of this delivery, the same on every retry (e.g. Shopify's X-Shopify-Event-Id).</param>
/// <param name="Events">The normalised events it carries.</param>
/// <param name="Reason">Why it was rejected.</param>
public sealed record WebhookResult(WebhookOutcome Outcome, string? DeduplicationKey, IReadOnlyList<ConnectorEvent> Events, string? Reason = null)
{
    /// <summary>A rejection (bad or missing signature, replay).</summary>
    public static WebhookResult Rejected(string reason) => new(WebhookOutcome.Rejected, null, [], reason);
}

/// <summary>What the host does with an inbound webhook.</summary>
public enum WebhookOutcome
{
    /// <summary>Verified: store its events durably and answer 200.</summary>
    Accepted,

    /// <summary>Not verified: answer 401 and store nothing.</summary>
    Rejected,

    /// <summary>Verified but carries no data (e.g. WooCommerce's ping): answer 200.</summary>
    Acknowledged,
}

/// <summary>The kinds of normalised events a platform connector emits.</summary>
public enum ConnectorEventKind
{
    /// <summary>A customer was created or changed.</summary>
    CustomerUpserted,

    /// <summary>An order was placed.</summary>
    OrderPlaced,

    /// <summary>An order was paid.</summary>
    OrderPaid,

    /// <summary>An order was cancelled.</summary>
    OrderCancelled,

    /// <summary>An order was (partly) refunded.</summary>
    OrderRefunded,

    /// <summary>A cart changed.</summary>
    CartUpdated,

    /// <summary>A checkout started.</summary>
    CheckoutStarted,

    /// <summary>A checkout was abandoned.</summary>
    CheckoutAbandoned,

    /// <summary>A product was viewed.</summary>
    ProductViewed,

    /// <summary>
    /// The platform asks, for the customer's privacy (e.g. GDPR erasure, Shopify <c>customers/redact</c>), that the
    /// customer's personal data be erased. The host erases the matching profiles; the event itself is not stored.
    /// </summary>
    CustomerErasureRequested,

    /// <summary>The customer asked the shop for their personal data (e.g. Shopify <c>customers/data_request</c>); recorded on the profile.</summary>
    CustomerDataRequested,
}

/// <summary>A platform fact in the platform's neutral shape; the host turns it into a Segment-shaped event.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Id">Unique per fact within the connector instance (deduplication).</param>
/// <param name="OccurredAt">When it happened on the platform.</param>
/// <param name="Customer">Who it concerns.</param>
/// <param name="Properties">Event properties in Segment e-commerce v2 names (order_id, total, currency, products ...), as JSON values.</param>
/// <param name="Traits">Profile traits (email, firstName ...), as JSON values.</param>
/// <param name="Consents">Marketing consents as reported (purpose to granted).</param>
/// <param name="Context">Context such as campaign (UTM) and page (landing site, referrer), as JSON values.</param>
public sealed record ConnectorEvent(
    ConnectorEventKind Kind,
    string Id,
    DateTimeOffset OccurredAt,
    CustomerReference Customer,
    IReadOnlyDictionary<string, object?> Properties,
    IReadOnlyDictionary<string, object?>? Traits = null,
    IReadOnlyDictionary<string, bool>? Consents = null,
    IReadOnlyDictionary<string, object?>? Context = null);

/// <summary>How a platform identifies the customer; at least one value is set.</summary>
/// <param name="PlatformId">The platform's customer id (becomes <c>{connector}:{id}</c>).</param>
/// <param name="Email">The email address.</param>
/// <param name="Phone">The phone number.</param>
/// <param name="AnonymousId">A cart or browser token.</param>
public sealed record CustomerReference(string? PlatformId, string? Email, string? Phone, string? AnonymousId)
{
    /// <summary>
    /// The platform's order id when the fact names no customer but concerns an order (a refund): the host attributes the
    /// fact to the customer who placed that order, as far as an earlier order event told it.
    /// </summary>
    public string? OrderId { get; init; }
}

/// <summary>One page of a backfill or reconciliation.</summary>
/// <param name="Events">The events of this page; none means caught up.</param>
/// <param name="NextCursor">Where to continue, and what the host stores for the next reconciliation.</param>
public sealed record BackfillPage(IReadOnlyList<ConnectorEvent> Events, string? NextCursor);

/// <summary>A connector's health.</summary>
/// <param name="Healthy">Whether it works.</param>
/// <param name="Detail">What was checked, or what is wrong (never a secret).</param>
public sealed record HealthReport(bool Healthy, string Detail);

/// <summary>A connector that brings platform data in.</summary>
public interface IPlatformConnector
{
    /// <summary>Verifies an inbound webhook (signature, replay window) and parses it into normalised events.</summary>
    Task<WebhookResult> HandleWebhookAsync(InboundWebhook webhook, ConnectorSettings settings, CancellationToken cancellationToken);

    /// <summary>Reads history or changes after <paramref name="cursor"/> (backfill and reconciliation).</summary>
    Task<BackfillPage> BackfillAsync(ConnectorSettings settings, string? cursor, CancellationToken cancellationToken);

    /// <summary>Checks that the instance can reach the platform.</summary>
    Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken);
}
