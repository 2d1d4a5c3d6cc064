using Microsoft.AspNetCore.Http.HttpResults;
using Modulith.Connectors.Sdk;
using Modulith.SharedKernel.Security;

namespace Modulith.Host.Connectors;

/// <summary>A loaded (or refused, or faulted) connector plugin.</summary>
/// <param name="Folder">The plugin's folder name.</param>
/// <param name="Id">The connector id from its manifest.</param>
/// <param name="Name">The display name.</param>
/// <param name="Version">The connector's version.</param>
/// <param name="Kind">platform or channel.</param>
/// <param name="SdkVersion">The SDK version it was built for.</param>
/// <param name="Status">loaded, faulted or refused.</param>
/// <param name="Error">Why it is not loaded.</param>
/// <param name="Configuration">The settings an instance takes (secrets marked).</param>
/// <param name="Health">healthy, recovering, circuit-open (recent calls into the plugin failed or timed out, so calls are refused for a while) or unavailable (not loaded).</param>
/// <param name="LastCallError">Why the circuit last opened.</param>
/// <param name="LoadAttempts">How often the host tried to load it.</param>
/// <param name="NextRetryAt">When a faulted plugin is loaded again (exponential back-off); null when no retry is planned.</param>
public sealed record ConnectorView(
    string Folder, string? Id, string? Name, string? Version, ConnectorKind? Kind, string? SdkVersion, PluginStatus Status, string? Error, IReadOnlyList<ConnectorSetting>? Configuration,
    string Health, string? LastCallError, int LoadAttempts, DateTimeOffset? NextRetryAt);

/// <summary>The connector plugins the host found.</summary>
/// <param name="HostSdkVersion">The SDK version this host provides.</param>
/// <param name="Connectors">Every plugin folder with its status.</param>
public sealed record ConnectorList(string HostSdkVersion, IReadOnlyList<ConnectorView> Connectors);

internal static class ConnectorEndpoints
{
    public static IEndpointRouteBuilder MapConnectorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/connectors").WithTags("Connectors")
            .MapGet("/", List)
            .RequireAuthorization(Policies.AnyRole)
            .WithSummary("Every connector plugin the host found: version, kind, SDK version, status (loaded, faulted, refused) and why.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    private static Ok<ConnectorList> List(PluginCatalog catalog) => TypedResults.Ok(new ConnectorList(
        SdkInfo.Version,
        catalog.Plugins.Select(p => new ConnectorView(p.Folder, p.Manifest?.Id, p.Manifest?.Name, p.Manifest?.Version, p.Manifest?.Kind, p.Manifest?.SdkVersion, p.Status, p.Error, p.Manifest?.Configuration, p.Health, p.LastCallError, p.LoadAttempts, p.NextRetryAt)).ToList()));
}

internal static class ConnectorSetup
{
    public static WebApplicationBuilder AddConnectorPlugins(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PluginOptions.Section).Get<PluginOptions>() ?? new PluginOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<PluginCatalog>();
        builder.Services.AddHostedService<PluginStartup>();
        builder.Services.AddHostedService<PluginRetryService>();
        return builder;
    }
}
