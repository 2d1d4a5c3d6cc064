using System.Text.Json.Serialization;

namespace Modulith.Connectors.Sdk;

/// <summary>What a connector is: the content of <c>connector.json</c> in the plugin folder.</summary>
/// <param name="Id">Stable id, lower-case (e.g. <c>shopify</c>); connector instances refer to it.</param>
/// <param name="Name">Display name.</param>
/// <param name="Version">The connector's own version (semantic versioning).</param>
/// <param name="Kind">Whether it brings data in or sends messages out.</param>
/// <param name="SdkVersion">The SDK version the plugin was built for; its major version must match the host's.</param>
/// <param name="Assembly">The plugin's main assembly file name (e.g. <c>Modulith.Connectors.Shopify.dll</c>).</param>
/// <param name="Configuration">The settings an instance of the connector takes.</param>
public sealed record ConnectorManifest(
    string Id,
    string Name,
    string Version,
    ConnectorKind Kind,
    string SdkVersion,
    string Assembly,
    IReadOnlyList<ConnectorSetting>? Configuration);

/// <summary>The direction of a connector.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConnectorKind>))]
public enum ConnectorKind
{
    /// <summary>Brings data in from a shop platform, helpdesk or ad platform (webhooks, backfill).</summary>
    Platform,

    /// <summary>Sends messages out on a channel (email, SMS, webhook) and reports delivery back.</summary>
    Channel,
}

/// <summary>One setting of a connector instance.</summary>
/// <param name="Name">The setting's key (e.g. <c>shopDomain</c>).</param>
/// <param name="Type"><c>string</c>, <c>number</c>, <c>boolean</c> or <c>url</c>.</param>
/// <param name="Required">Whether an instance must set it.</param>
/// <param name="Secret">Secrets are encrypted at rest, never returned by the API and never logged.</param>
/// <param name="Description">What it is for.</param>
public sealed record ConnectorSetting(string Name, string Type, bool Required, bool Secret, string? Description);
