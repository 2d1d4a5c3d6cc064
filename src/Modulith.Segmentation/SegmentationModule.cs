using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.Customers.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Endpoints;
using Modulith.Segmentation.Orders;
using Modulith.Segmentation.Storage;
using Modulith.Segmentation.Value;
using Modulith.SharedKernel.Storage;

namespace Modulith.Segmentation;

/// <summary>Registers the Segmentation module: the order history, order imports and customer value (BG/NBD, Gamma-Gamma).</summary>
public static class SegmentationModule
{
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
        return builder;
    }

    /// <summary>Maps <c>/api/clv</c> and <c>/api/orders/import</c>.</summary>
    public static IEndpointRouteBuilder MapSegmentationEndpoints(this IEndpointRouteBuilder app)
    {
        ValueEndpoints.Map(app);
        return app;
    }
}
