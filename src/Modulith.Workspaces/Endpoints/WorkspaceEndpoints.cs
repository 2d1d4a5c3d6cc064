using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;
using Modulith.Workspaces.Contracts;
using Modulith.Workspaces.Storage;

namespace Modulith.Workspaces.Endpoints;

internal static class WorkspaceEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var workspaces = app.MapGroup("/api/workspaces").WithTags("Workspaces");
        workspaces.MapPost("/", CreateWorkspaceAsync)
            .RequireAuthorization(Policies.PlatformAdmin)
            .WithSummary("Create a workspace (platform administrator key only); answers its first admin and write keys once.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        workspaces.MapGet("/current", GetCurrentAsync)
            .RequireAuthorization(Policies.AnyRole)
            .WithSummary("The workspace of the calling key, with the key's roles.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        var keys = app.MapGroup("/api/api-keys").WithTags("Workspaces").RequireAuthorization(Policies.Admin);
        keys.MapGet("/", ListKeysAsync).WithSummary("List the workspace's keys (never their secrets).")
            .ProducesAuthProblems();
        keys.MapPost("/", CreateKeyAsync).WithSummary("Create an API key (with roles) or a write key; the secret is answered once.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        keys.MapDelete("/{id}", RevokeKeyAsync).WithSummary("Revoke a key of the workspace.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
    }

    private static async Task<Results<Created<CreatedWorkspace>, ProblemHttpResult>> CreateWorkspaceAsync(
        CreateWorkspaceRequest? request, WorkspaceService service, CancellationToken cancellationToken)
    {
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return Problems.BadRequest("'name' is required (1-200 characters).");
        }

        var id = request?.Id?.Trim();
        if (id is not null && !WorkspaceService.IsValidId(id))
        {
            return Problems.BadRequest("'id' may hold lower-case letters, digits, '-' and '_' (1-64 characters).");
        }

        var created = await service.CreateWorkspaceAsync(id, name, null, null, platformAdmin: false, cancellationToken);
        return created is null
            ? Problems.Conflict($"A workspace with id '{id}' exists already.")
            : TypedResults.Created("/api/workspaces/current", created);
    }

    private static async Task<Results<Ok<WorkspaceView>, ProblemHttpResult>> GetCurrentAsync(
        ClaimsPrincipal user, WorkspaceStore store, CancellationToken cancellationToken)
    {
        var workspace = await store.FindWorkspaceAsync(user.WorkspaceId(), cancellationToken);
        return workspace is null
            ? Problems.NotFound("The workspace no longer exists.")
            : TypedResults.Ok(new WorkspaceView(workspace.Id, workspace.Name, workspace.CreatedAt, user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList()));
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyView>>> ListKeysAsync(ClaimsPrincipal user, WorkspaceStore store, CancellationToken cancellationToken)
    {
        var keys = await store.ListKeysAsync(user.WorkspaceId(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ApiKeyView>>(keys.Select(k => k.ToView()).ToList());
    }

    private static async Task<Results<Created<CreatedApiKey>, ProblemHttpResult>> CreateKeyAsync(
        CreateApiKeyRequest? request, ClaimsPrincipal user, WorkspaceService service, CancellationToken cancellationToken)
    {
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return Problems.BadRequest("'name' is required (1-200 characters).");
        }

        var kind = request?.Kind?.Trim().ToLowerInvariant() ?? "api";
        if (kind is not ("api" or "write"))
        {
            return Problems.BadRequest("'kind' must be 'api' or 'write'.");
        }

        var roles = request?.Roles?.Select(r => r.Trim().ToLowerInvariant()).Distinct().ToList() ?? [];
        if (kind == "api")
        {
            if (roles.Count == 0)
            {
                return Problems.BadRequest("An API key needs at least one role: admin, marketing, sales, service or viewer.");
            }

            var unknown = roles.Where(r => !Roles.All.Contains(r)).ToList();
            if (unknown.Count > 0)
            {
                return Problems.BadRequest($"Unknown role(s): {string.Join(", ", unknown)}. Known roles: admin, marketing, sales, service, viewer.");
            }
        }

        var created = await service.CreateKeyAsync(user.WorkspaceId(), name, kind, roles, cancellationToken);
        return TypedResults.Created("/api/api-keys", created);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(
        string id, ClaimsPrincipal user, WorkspaceService service, CancellationToken cancellationToken) =>
        await service.RevokeKeyAsync(user.WorkspaceId(), id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound($"No active key '{id}' in this workspace.");
}
