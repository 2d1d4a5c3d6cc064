using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.Customers.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Endpoints;
using Modulith.Leads.Contracts;
using Modulith.Segmentation.Orders;
using Modulith.Segmentation.Segments;
using Modulith.Segmentation.Segments.Membership;
using Modulith.Segmentation.Segments.Preview;
using Modulith.Segmentation.Storage;
using Modulith.Segmentation.Value;
using Modulith.SharedKernel.Storage;

namespace Modulith.Segmentation;

/// <summary>Registers the Segmentation module: segments kept current in real time, lifecycle, RFM, the order history, order imports and customer value (BG/NBD, Gamma-Gamma).</summary>
public static class SegmentationModule
{
    /// <summary>The grain storage provider name the host must configure for this module.</summary>
    public const string GrainStorage = "segments";

    /// <summary>Adds the module's services; it follows customers' orders through <see cref="ICustomerActivityObserver"/>.</summary>
    public static IHostApplicationBuilder AddSegmentation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISchemaContributor, SegmentationSchema>();
        builder.Services.AddSingleton<OrderHistoryStore>();
        builder.Services.AddSingleton<OrderImportStore>();
        builder.Services.AddSingleton<OrderImportWorker>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OrderImportWorker>());
        builder.Services.AddSingleton<ICustomerActivityObserver, OrderHistoryObserver>();
        builder.Services.AddSingleton<ICustomerValueService, CustomerValueService>();
        builder.Services.AddOptions<SegmentationOptions>().BindConfiguration(SegmentationOptions.Section);
        builder.Services.AddSingleton<SegmentStore>();
        builder.Services.AddSingleton<SegmentCatalog>();
        builder.Services.AddSingleton<FactsWriter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<FactsWriter>());
        builder.Services.AddSingleton<FactsIndex>();
        builder.Services.AddSingleton<SegmentPreviewer>();
        builder.Services.AddSingleton<ScoresService>();
        builder.Services.AddSingleton<ScoresScheduler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ScoresScheduler>());
        builder.Services.AddSingleton<SegmentBackfillWorker>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SegmentBackfillWorker>());
        builder.Services.AddHostedService<SegmentTimerScanner>();
        builder.Services.AddHostedService<SegmentChangeRelay>();
        builder.Services.AddSingleton<ICustomerActivityObserver, SegmentActivityObserver>();
        builder.Services.AddSingleton<ICustomerErasureObserver, SegmentErasureObserver>();
        builder.Services.AddSingleton<ILeadEventObserver, SegmentLeadObserver>();
        return builder;
    }

    /// <summary>Maps <c>/api/segments</c>, <c>/api/lifecycle</c>, <c>/api/rfm</c>, <c>/api/clv</c> and <c>/api/orders/import</c>.</summary>
    public static IEndpointRouteBuilder MapSegmentationEndpoints(this IEndpointRouteBuilder app)
    {
        ValueEndpoints.Map(app);
        SegmentEndpoints.Map(app);
        return app;
    }
}

/// <summary>Segmentation options (<c>Modulith:Segmentation</c>).</summary>
public sealed class SegmentationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Segmentation";

    /// <summary>How often RFM and value scores are recomputed per workspace (default one hour; also after every order import).</summary>
    public TimeSpan ScoresInterval { get; set; } = TimeSpan.FromHours(1);
}
