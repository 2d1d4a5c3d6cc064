using System.Net;
using Modulith.Customers;
using Modulith.SharedKernel.Storage;
using Orleans.Configuration;

namespace Modulith.Host.Orleans;

/// <summary>Cluster settings (<c>Modulith:Cluster</c>).</summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Cluster";

    /// <summary>Silos with the same cluster id form one cluster.</summary>
    public string ClusterId { get; set; } = "modulith";

    /// <summary>Stays the same across deployments; grain state and reminders are keyed by it.</summary>
    public string ServiceId { get; set; } = "modulith";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (cluster mode); the loopback address when absent.</summary>
    public string? AdvertisedIP { get; set; }
}

internal static class SiloSetup
{
    public static WebApplicationBuilder AddModulithSilo(this WebApplicationBuilder builder, StorageOptions storage)
    {
        var cluster = builder.Configuration.GetSection(ClusterOptions.Section).Get<ClusterOptions>() ?? new ClusterOptions();
        var connectionString = storage.EffectiveConnectionString;
        var invariant = storage.OrleansInvariant;
        builder.UseOrleans(silo =>
        {
            if (storage.Provider == StorageProvider.PostgreSql)
            {
                var address = string.IsNullOrWhiteSpace(cluster.AdvertisedIP) ? IPAddress.Loopback : IPAddress.Parse(cluster.AdvertisedIP);
                silo.Configure<global::Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                });
                silo.ConfigureEndpoints(address, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = invariant;
                    o.ConnectionString = connectionString;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = invariant;
                    o.ConnectionString = connectionString;
                });
            }
            else
            {
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = invariant;
                    o.ConnectionString = connectionString;
                });
            }

            var serializer = new JsonGrainStorageSerializer(CustomersModule.GrainStateJson, Modulith.Leads.LeadsModule.GrainStateJson);
            silo.Services.AddSingleton<GrainStateWriter>();
            foreach (var storageName in (string[])[CustomersModule.GrainStorage, Modulith.Leads.LeadsModule.GrainStorage, Modulith.Segmentation.SegmentationModule.GrainStorage])
            {
                // The grains name the batched storage; it reads through, and writes into the same rows as, the ADO.NET provider.
                var adoNetName = storageName + ".adonet";
                silo.AddAdoNetGrainStorage(adoNetName, o =>
                {
                    o.Invariant = invariant;
                    o.ConnectionString = connectionString;
                    o.GrainStorageSerializer = serializer;
                });
                silo.Services.AddKeyedSingleton<global::Orleans.Storage.IGrainStorage>(storageName, (services, _) => new BatchedGrainStorage(
                    services.GetRequiredKeyedService<global::Orleans.Storage.IGrainStorage>(adoNetName), services.GetRequiredService<GrainStateWriter>(), serializer));
            }
            silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(30));
        });
        return builder;
    }
}
