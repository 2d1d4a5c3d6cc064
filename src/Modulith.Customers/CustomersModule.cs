using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.Customers.Contracts;
using Modulith.Customers.Directory;
using Modulith.Customers.Endpoints;
using Modulith.Customers.Identity;
using Modulith.Customers.Privacy;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Storage;

namespace Modulith.Customers;

/// <summary>Registers the Customers module: identity resolution, customer grains and the single customer view.</summary>
public static class CustomersModule
{
    /// <summary>The grain storage provider name the host must configure for this module.</summary>
    public const string GrainStorage = "customers";

    /// <summary>
    /// Build-time JSON contracts of the state this module's grains store, for the host's grain-state serializer (the
    /// stored JSON is the same as without them).
    /// </summary>
    public static System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver GrainStateJson => CustomerStateJson.Default;

    /// <summary>Adds the module's services and makes it the consumer of ingested events.</summary>
    public static IHostApplicationBuilder AddCustomers(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<CustomersOptions>(builder.Configuration.GetSection(CustomersOptions.Section));
        builder.Services.AddSingleton<ISchemaContributor, CustomerDirectorySchema>();
        builder.Services.AddSingleton<CustomerDirectoryStore>();
        builder.Services.AddSingleton<IdentityResolver>();
        builder.Services.AddSingleton<CustomerQueries>();
        builder.Services.AddSingleton<ICustomerDirectory>(sp => sp.GetRequiredService<CustomerQueries>());
        builder.Services.AddSingleton<ICustomerPrivacy, CustomerEraser>();
        builder.Services.AddSingleton<IIngestedEventConsumer, CustomerEventConsumer>();
        return builder;
    }

    /// <summary>Maps <c>/api/customers</c>.</summary>
    public static IEndpointRouteBuilder MapCustomersEndpoints(this IEndpointRouteBuilder app)
    {
        CustomerEndpoints.Map(app);
        return app;
    }
}
