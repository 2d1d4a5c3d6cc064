using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Storage;
using Modulith.Workspaces.Auth;
using Modulith.Workspaces.Bootstrap;
using Modulith.Workspaces.Contracts;
using Modulith.Workspaces.Endpoints;
using Modulith.Workspaces.Storage;

namespace Modulith.Workspaces;

/// <summary>Registers the Workspaces module: tenancy, keys and authentication.</summary>
public static class WorkspacesModule
{
    /// <summary>Adds the module's services, the API key authentication scheme and the authorization policies.</summary>
    public static IHostApplicationBuilder AddWorkspaces(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<BootstrapOptions>(builder.Configuration.GetSection(BootstrapOptions.Section));
        builder.Services.AddSingleton<ISchemaContributor, WorkspaceSchema>();
        builder.Services.AddSingleton<WorkspaceStore>();
        builder.Services.AddSingleton<WorkspaceDirectory>();
        builder.Services.AddSingleton<IWorkspaceDirectory>(sp => sp.GetRequiredService<WorkspaceDirectory>());
        builder.Services.AddSingleton<WorkspaceService>();
        builder.Services.AddSingleton<WorkspaceBootstrapper>();

        builder.Services.AddAuthentication(ModulithClaims.ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ModulithClaims.ApiKeyScheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.AnyRole, p => p.RequireClaim(ModulithClaims.Workspace))
            .AddPolicy(Policies.Admin, p => p.RequireClaim(ModulithClaims.Workspace).RequireRole(Roles.Admin))
            .AddPolicy(Policies.ReadCustomers, p => p.RequireClaim(ModulithClaims.Workspace).RequireRole(Roles.All))
            .AddPolicy(Policies.WriteCustomers, p => p.RequireClaim(ModulithClaims.Workspace).RequireRole(Roles.Admin, Roles.Marketing, Roles.Sales, Roles.Service))
            .AddPolicy(Policies.SalesActions, p => p.RequireClaim(ModulithClaims.Workspace).RequireRole(Roles.Admin, Roles.Sales))
            .AddPolicy(Policies.PlatformAdmin, p => p.RequireClaim(ModulithClaims.PlatformAdmin));
        return builder;
    }

    /// <summary>Creates the bootstrap workspace when the store has none. Call after the schema exists.</summary>
    public static Task BootstrapWorkspacesAsync(this IServiceProvider services, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<WorkspaceBootstrapper>().RunAsync(cancellationToken);

    /// <summary>Maps <c>/api/workspaces</c> and <c>/api/api-keys</c>.</summary>
    public static IEndpointRouteBuilder MapWorkspacesEndpoints(this IEndpointRouteBuilder app)
    {
        WorkspaceEndpoints.Map(app);
        return app;
    }
}
