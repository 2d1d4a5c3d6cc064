using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Dispatch;
using Modulith.Ingestion.Endpoints;
using Modulith.Ingestion.EventLog;
using Modulith.SharedKernel.Storage;

namespace Modulith.Ingestion;

/// <summary>Registers the Ingestion module: the Segment-compatible API, the durable event log and dispatch.</summary>
public static class IngestionModule
{
    /// <summary>The rate-limiting policy the host must define for the ingestion routes.</summary>
    public const string RateLimitPolicy = IngestionEndpoints.RateLimitPolicy;

    /// <summary>Adds the module's services.</summary>
    public static IHostApplicationBuilder AddIngestion(this IHostApplicationBuilder builder)
    {
        // Bound and checked at start: a malformed or out-of-range setting stops the host with its name, instead of
        // failing every request that first reads it.
        builder.Services.AddOptions<IngestionOptions>().Bind(builder.Configuration.GetSection(IngestionOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestionOptions>, IngestionOptionsValidator>();
        builder.Services.AddSingleton<ISchemaContributor, EventLogSchema>();
        builder.Services.AddSingleton<EventLogStore>();
        builder.Services.AddSingleton<IEventLog, EventLogAccess>();
        builder.Services.AddSingleton<IEventBacklog>(sp => sp.GetRequiredService<EventLogStore>());
        builder.Services.AddSingleton<IDispatchNotifier, DispatchNotifier>();
        builder.Services.AddSingleton<EventDispatch>();
        builder.Services.AddSingleton<ParkedEventStore>();
        builder.Services.AddSingleton<IngestionPressure>();
        builder.Services.AddSingleton<DispatchThrottle>();
        builder.Services.AddSingleton<EventAppender>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventAppender>());
        builder.Services.AddSingleton<IngestionService>();
        builder.Services.AddSingleton<IEventIngestion>(sp => sp.GetRequiredService<IngestionService>());
        return builder;
    }

    /// <summary>Maps the <c>/v1</c> Segment routes and <c>/api/ingestion</c> (backlog and parked events).</summary>
    public static IEndpointRouteBuilder MapIngestionEndpoints(this IEndpointRouteBuilder app)
    {
        IngestionEndpoints.Map(app);
        DispatchEndpoints.Map(app);
        return app;
    }
}
