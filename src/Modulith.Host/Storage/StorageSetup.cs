using Microsoft.Extensions.Diagnostics.HealthChecks;
using Modulith.Host.Orleans;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Dispatch;
using Modulith.SharedKernel.Storage;
using Modulith.Workspaces;

namespace Modulith.Host.Storage;

internal static class StorageSetup
{
    public static StorageOptions ReadStorageOptions(this IConfiguration configuration)
    {
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        options.DataDirectory = configuration["Modulith:DataDirectory"] ?? options.DataDirectory;
        return options;
    }

    /// <summary>The database, its schema steps and the migrator. Must run before Orleans starts: Orleans reads its SQL from the schema.</summary>
    public static IServiceCollection AddModulithStorage(this IServiceCollection services, StorageOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(_ => new Database(options));
        services.AddSingleton<ISchemaContributor, OrleansSchema>();
        services.AddSingleton<SchemaMigrator>();
        services.AddTimeProviderIfMissing();
        if (options.Provider == StorageProvider.Sqlite)
        {
            services.AddHostedService<SqliteCheckpointer>();
        }

        return services;
    }

    private static void AddTimeProviderIfMissing(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}

/// <summary>Creates or upgrades the schema and the bootstrap workspace; registered before the silo so it runs first.</summary>
internal sealed class DatabaseInitializer(SchemaMigrator migrator, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        await services.BootstrapWorkspacesAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Wakes every dispatch partition at start (events committed before a crash) and then whenever events are pending
/// (a partition whose silo died is activated on a surviving silo by the nudge; its reminder is the slower safety net).
/// </summary>
internal sealed class DispatchWatchdog(EventDispatch dispatch, IEventBacklog backlog, TimeProvider clock, ILogger<DispatchWatchdog> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        dispatch.WakeAll();
        using var timer = new PeriodicTimer(Interval, clock);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                if (await backlog.CountPendingAsync(stoppingToken) > 0)
                {
                    dispatch.WakeAll();
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Checking the dispatch backlog failed");
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>Ready means the database answers.</summary>
internal sealed class DatabaseHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var command = connection.Command("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{database.Provider} answers.");
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Unhealthy($"{database.Provider} does not answer.", exception);
        }
    }
}
