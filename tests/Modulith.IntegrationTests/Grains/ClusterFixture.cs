using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Dispatch;
using Modulith.Ingestion.EventLog;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;
using Orleans.TestingHost;

namespace Modulith.IntegrationTests.Grains;

/// <summary>Orleans' in-process test cluster with two silos running the Customers grains over a real SQLite event log.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var database = new Database(SiloConfigurator.Options);
        await new SchemaMigrator(database, [new EventLogSchema(), new CustomerDirectorySchema()], TimeProvider.System, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await database.DisposeAsync();
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public static readonly StorageOptions Options = new() { DataDirectory = Scratch.NewDirectory("cluster") };

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage("customers");
            var services = siloBuilder.Services;
            services.AddSingleton(TimeProvider.System);
            services.AddSingleton(_ => new Database(Options));
            services.AddSingleton<EventLogStore>();
            services.AddSingleton<IEventLog, EventLogAccess>();
            services.AddSingleton<CustomerDirectoryStore>();
            services.AddSingleton<IdentityResolver>();
            services.AddOptions<CustomersOptions>();
        }
    }
}
