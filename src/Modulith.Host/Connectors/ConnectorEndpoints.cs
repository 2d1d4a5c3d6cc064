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
public sealed record ConnectorView(string Folder, string? Id, string? Name, string? Version, ConnectorKind? Kind, string? SdkVersion, PluginStatus Status, string? Error, IReadOnlyList<ConnectorSetting>? Configuration);

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
        catalog.Plugins.Select(p => new ConnectorView(p.Folder, p.Manifest?.Id, p.Manifest?.Name, p.Manifest?.Version, p.Manifest?.Kind, p.Manifest?.SdkVersion, p.Status, p.Error, p.Manifest?.Configuration)).ToList()));
}

internal static class ConnectorSetup
{
    public static WebApplicationBuilder AddConnectorPlugins(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PluginOptions.Section).Get<PluginOptions>() ?? new PluginOptions();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<PluginCatalog>();
        builder.Services.AddHostedService<PluginStartup>();
        return builder;
    }
}
