using System.Collections.Concurrent;
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

    /// <summary>A service of the first silo (each silo of the test cluster has its own).</summary>
    public T SiloService<T>() where T : notnull =>
        (Cluster.Primary as InProcessSiloHandle ?? throw new InvalidOperationException("The test cluster runs its silos in process.")).SiloHost.Services.GetRequiredService<T>();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public static readonly StorageOptions Options = new() { DataDirectory = Scratch.NewDirectory("cluster") };

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage("customers");
            siloBuilder.AddIncomingGrainCallFilter<HeldMerges>();
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

/// <summary>Holds the merges of a workspace at its <see cref="IProfileMergeGrain"/> until released, for tests of what does not wait for them.</summary>
internal sealed class HeldMerges : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new(StringComparer.Ordinal);

    /// <summary>Holds every merge of <paramref name="workspaceId"/> that starts from now until the answer is disposed.</summary>
    public static IDisposable Hold(string workspaceId)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Gates[workspaceId] = gate;
        return new Release(() =>
        {
            Gates.TryRemove(workspaceId, out _);
            gate.TrySetResult();
        });
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IProfileMergeGrain && Gates.TryGetValue(context.TargetId.Key.ToString()!, out var gate))
        {
            await gate.Task;
        }

        await context.Invoke();
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
