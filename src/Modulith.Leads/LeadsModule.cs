using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modulith.Customers.Contracts;
using Modulith.Leads.Endpoints;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Routing;
using Modulith.Leads.Scoring;
using Modulith.Leads.Sla;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Storage;

namespace Modulith.Leads;

/// <summary>Registers the Leads module: the scoring model, lead grains and their stage machine, assignment, the lead SLA and reports.</summary>
public static class LeadsModule
{
    /// <summary>The grain storage provider name the host must configure for this module.</summary>
    public const string GrainStorage = "leads";

    /// <summary>
    /// Build-time JSON contracts of the state this module's grains store, for the host's grain-state serializer (the
    /// stored JSON is the same as without them).
    /// </summary>
    public static System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver GrainStateJson => Pipeline.LeadStateJson.Default;

    /// <summary>Adds the module's services; the module follows customers through <see cref="ICustomerActivityObserver"/>.</summary>
    public static IHostApplicationBuilder AddLeads(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISchemaContributor, LeadsSchema>();
        builder.Services.AddSingleton<ScoringModelStore>();
        builder.Services.AddSingleton<LeadProjectionStore>();
        builder.Services.AddSingleton<SalesRepStore>();
        builder.Services.AddSingleton<SlaAgreementStore>();
        builder.Services.AddSingleton<LeadTimerStore>();
        builder.Services.AddSingleton<LeadRouter>();
        builder.Services.AddSingleton<UnassignedLeadLog>();
        builder.Services.AddSingleton<SlaEngine>();
        builder.Services.AddSingleton<Rescorer>();
        builder.Services.AddSingleton<Reports.LeadReportStore>();
        builder.Services.AddSingleton<ICustomerActivityObserver, LeadActivityObserver>();
        builder.Services.AddSingleton<ICustomerErasureObserver, LeadErasureObserver>();
        builder.Services.AddSingleton<Contracts.ILeadDirectory, LeadDirectory>();
        builder.Services.AddSingleton<Contracts.ILeadReporting, Reports.LeadReporting>();
        builder.Services.AddHostedService<LeadTimerScanner>();
        return builder;
    }

    /// <summary>Maps <c>/api/leads</c>, <c>/api/scoring-model</c>, <c>/api/sales-reps</c> and <c>/api/sla-policies</c>.</summary>
    public static IEndpointRouteBuilder MapLeadsEndpoints(this IEndpointRouteBuilder app)
    {
        LeadEndpoints.Map(app);
        SalesEndpoints.Map(app);
        ReportEndpoints.Map(app);
        return app;
    }
}
