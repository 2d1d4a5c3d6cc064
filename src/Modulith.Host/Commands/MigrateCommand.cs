using Modulith.Attribution;
using Modulith.Customers;
using Modulith.Host.Storage;
using Modulith.Ingestion;
using Modulith.Leads;
using Modulith.Segmentation;
using Modulith.SharedKernel.Storage;
using Modulith.Workspaces;

namespace Modulith.Host;

/// <summary><c>Modulith.Host migrate</c>: creates or upgrades the schema and the bootstrap workspace, then exits.</summary>
internal static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(args);
        var storage = builder.Configuration.ReadStorageOptions();
        builder.Services.AddModulithStorage(storage);
        builder.AddWorkspaces();
        builder.AddIngestion();
        builder.AddCustomers();
        builder.AddLeads();
        builder.AddSegmentation();
        builder.AddAttribution();
        builder.Services.AddSingleton<ISchemaContributor, Connectors.Instances.ConnectorInstanceSchema>();
        builder.Services.AddSingleton<ISchemaContributor, Connectors.Messaging.OutboxSchema>();
        using var host = builder.Build();
        var applied = await host.Services.GetRequiredService<SchemaMigrator>().MigrateAsync();
        await host.Services.BootstrapWorkspacesAsync();
        Console.WriteLine($"Schema is current on {storage.Provider}: {applied} step(s) applied.");
        return 0;
    }
}
