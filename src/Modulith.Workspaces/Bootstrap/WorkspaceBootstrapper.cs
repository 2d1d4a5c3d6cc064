using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Modulith.Workspaces.Bootstrap;

/// <summary>Creates the configured first workspace on an empty store.</summary>
internal sealed class WorkspaceBootstrapper(Storage.WorkspaceStore store, WorkspaceService service, IOptions<BootstrapOptions> options, ILogger<WorkspaceBootstrapper> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await store.AnyWorkspaceAsync(cancellationToken))
        {
            return;
        }

        var configured = options.Value;
        var id = string.IsNullOrWhiteSpace(configured.Workspace) ? "default" : configured.Workspace.Trim();
        if (!WorkspaceService.IsValidId(id))
        {
            throw new InvalidOperationException($"Modulith:Bootstrap:Workspace '{id}' is not a valid workspace id (lower-case letters, digits, '-' and '_', 1-64 characters).");
        }

        var created = await service.CreateWorkspaceAsync(id, id, Blank(configured.AdminKey), Blank(configured.WriteKey), platformAdmin: true, cancellationToken);
        if (created is null)
        {
            return;
        }

        logger.LogInformation("Created the bootstrap workspace {WorkspaceId}", created.Id);
        if (Blank(configured.AdminKey) is null || Blank(configured.WriteKey) is null)
        {
            // Generated keys are shown exactly once, on the console only, never through the log pipeline.
            Console.WriteLine();
            Console.WriteLine($"  Workspace '{created.Id}' created. Keep these keys; they are not shown again.");
            Console.WriteLine($"  Admin API key (Authorization: Bearer): {created.AdminKey}");
            Console.WriteLine($"  Write key (ingestion, HTTP Basic user): {created.WriteKey}");
            Console.WriteLine();
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
