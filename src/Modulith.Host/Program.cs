using Modulith.Attribution;
using Modulith.Customers;
using Modulith.Host.Connectors;
using Modulith.Host.Connectors.Instances;
using Modulith.Host.Connectors.Messaging;
using Modulith.Host.Connectors.Webhooks;
using Modulith.Host;
using Modulith.Host.Orleans;
using Modulith.Host.Storage;
using Modulith.Host.Web;
using Modulith.Ingestion;
using Modulith.Leads;
using Modulith.Segmentation;
using Modulith.Workspaces;

if (args.Length > 0 && args[0] == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..]);
}

// Settings are read once, at start. Watching appsettings.json for changes would watch the whole content root, and with
// it the embedded database's folder under it (./data by default): every write of the database woke the watcher.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
var storage = builder.Configuration.ReadStorageOptions();
builder.AddModulithLogging();
builder.Services.AddModulithStorage(storage);
builder.Services.AddHostedService<DatabaseInitializer>();
builder.AddModulithSilo(storage);
builder.AddModulithWeb();

builder.AddWorkspaces();
builder.AddIngestion();
builder.AddCustomers();
builder.AddLeads();
builder.AddSegmentation();
builder.AddAttribution();
builder.AddConnectorPlugins();
builder.AddConnectorInstances();
builder.AddMessaging();
builder.Services.AddHostedService<DispatchWatchdog>();

var app = builder.Build();
app.UseModulithWeb();
app.MapWorkspacesEndpoints();
app.MapIngestionEndpoints();
app.MapCustomersEndpoints();
app.MapLeadsEndpoints();
app.MapSegmentationEndpoints();
app.MapAttributionEndpoints();
app.MapConnectorEndpoints();
app.MapConnectorInstanceEndpoints();
app.MapMessagingEndpoints();
app.MapInboundWebhooks();
app.MapGet("/", () => TypedResults.Redirect("/swagger")).ExcludeFromDescription();

await app.RunAsync();
return 0;

/// <summary>The host's entry point (public for the integration tests' WebApplicationFactory).</summary>
public partial class Program;
