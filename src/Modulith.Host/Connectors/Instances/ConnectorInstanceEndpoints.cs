using System.Security.Claims;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Modulith.Connectors.Sdk;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Storage;
using Modulith.SharedKernel.Web;

namespace Modulith.Host.Connectors.Instances;

internal static class ConnectorInstanceEndpoints
{
    public static IEndpointRouteBuilder MapConnectorInstanceEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/connector-instances").WithTags("Connectors");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The workspace's connector instances; secret settings are never returned, only which are set.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Connect a connector for this workspace: settings are checked against the connector's schema, secrets are encrypted at rest.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        group.MapPost("/{id}/reconcile", ReconcileAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Reconcile a platform instance now: read what changed on the platform since the stored cursor (it also runs periodically).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        return app;
    }

    private static async Task<Results<Ok<ReconcileResult>, ProblemHttpResult>> ReconcileAsync(
        string id, ClaimsPrincipal user, ConnectorInstanceStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!ConnectorInstanceStore.IsValidId(id) || !await store.BelongsToAsync(id, user.WorkspaceId(), cancellationToken))
        {
            return Problems.NotFound($"No connector instance '{id}' in this workspace.");
        }

        return TypedResults.Ok(await grains.GetGrain<IReconciliationGrain>(id).ReconcileAsync());
    }

    private static async Task<Ok<IReadOnlyList<ConnectorInstanceView>>> ListAsync(ClaimsPrincipal user, ConnectorInstanceStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListAsync(user.WorkspaceId(), cancellationToken));

    private static async Task<Results<Created<ConnectorInstanceView>, ProblemHttpResult>> CreateAsync(
        CreateConnectorInstanceRequest? request, ClaimsPrincipal user, PluginCatalog catalog, ConnectorInstanceStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(request?.ConnectorId) || string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return Problems.BadRequest("'connectorId' and 'name' (1-200 characters) are required.");
        }

        var plugin = catalog.Plugins.FirstOrDefault(p => p.Manifest?.Id == request.ConnectorId);
        if (plugin is null)
        {
            return Problems.BadRequest($"There is no connector '{request.ConnectorId}'; GET /api/connectors lists them.");
        }

        if (plugin.Status != PluginStatus.Loaded)
        {
            return Problems.BadRequest($"The connector '{request.ConnectorId}' is {plugin.Status.ToString().ToLowerInvariant()}: {plugin.Error}");
        }

        var error = SettingsValidator.Validate(plugin.Manifest!, request.Settings ?? new Dictionary<string, string?>(), out var settings, out var secrets);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var created = await store.CreateAsync(user.WorkspaceId(), request.ConnectorId, name, settings, secrets, cancellationToken);
        if (plugin.Manifest!.Kind == ConnectorKind.Platform)
        {
            await grains.GetGrain<IReconciliationGrain>(created.Id).StartAsync();
        }

        return TypedResults.Created($"/api/connector-instances/{created.Id}", created);
    }
}

internal static class ConnectorInstanceSetup
{
    public static WebApplicationBuilder AddConnectorInstances(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISchemaContributor, ConnectorInstanceSchema>();
        builder.Services.AddSingleton<DatabaseXmlRepository>();
        builder.Services.AddDataProtection().SetApplicationName("Modulith");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = sp.GetRequiredService<DatabaseXmlRepository>()));
        builder.Services.AddSingleton<ConnectorInstanceStore>();
        builder.Services.AddSingleton<Webhooks.PlatformEventProcessor>();
        builder.Services.Configure<ReconciliationOptions>(builder.Configuration.GetSection("Modulith:Connectors"));
        return builder;
    }
}
