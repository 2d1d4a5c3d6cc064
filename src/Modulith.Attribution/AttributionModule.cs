using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.Attribution.Endpoints;
using Modulith.Attribution.Kpis;
using Modulith.Attribution.Models;
using Modulith.Attribution.Storage;
using Modulith.Attribution.Tracking;
using Modulith.Customers.Contracts;
using Modulith.Leads.Contracts;
using Modulith.SharedKernel.Storage;

namespace Modulith.Attribution;

/// <summary>Registers the Attribution module: touches and conversions, the attribution models, ad spend and the shared KPIs.</summary>
public static class AttributionModule
{
    /// <summary>Adds the module's services; it follows customers (touches, orders) and leads (sales touches, MQL and SQL).</summary>
    public static IHostApplicationBuilder AddAttribution(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISchemaContributor, AttributionSchema>();
        builder.Services.AddSingleton<AttributionStore>();
        builder.Services.AddSingleton<AttributionService>();
        builder.Services.AddSingleton<KpiCalculator>();
        builder.Services.AddSingleton<ICustomerActivityObserver, TouchObserver>();
        builder.Services.AddSingleton<ILeadEventObserver, SalesTouchObserver>();
        return builder;
    }

    /// <summary>Maps <c>/api/attribution</c>, <c>/api/ad-spend</c> and <c>/api/kpis</c>.</summary>
    public static IEndpointRouteBuilder MapAttributionEndpoints(this IEndpointRouteBuilder app)
    {
        AttributionEndpoints.Map(app);
        return app;
    }
}
