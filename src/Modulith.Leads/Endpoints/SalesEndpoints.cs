using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Leads.Contracts;
using Modulith.Leads.Sla;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Leads.Endpoints;

internal static class SalesEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var reps = app.MapGroup("/api/sales-reps").WithTags("Leads");
        reps.MapGet("/", ListRepsAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's sales reps: team, manager, working hours, out-of-office, capacity, weight, territories, skills.")
            .ProducesAuthProblems();
        reps.MapGet("/{id}", GetRepAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("One sales rep.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        reps.MapPost("/", CreateRepAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Add a sales rep.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesAuthProblems();
        reps.MapPut("/{id}", PutRepAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Create or replace a sales rep (e.g. to set out-of-office).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();

        var sla = app.MapGroup("/api/sla-policies").WithTags("Leads");
        sla.MapGet("/", GetAgreementAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The lead SLA agreement: calendars, policies (assignment, time to first contact, reminders, escalations), notifications, marketing's MQL commitment.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        sla.MapPut("/", PutAgreementAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Replace the lead SLA agreement (a new version); clocks already running keep their deadlines.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
    }

    private static async Task<Ok<IReadOnlyList<SalesRep>>> ListRepsAsync(ClaimsPrincipal user, SalesRepStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListAsync(user.WorkspaceId(), cancellationToken));

    private static async Task<Results<Ok<SalesRep>, ProblemHttpResult>> GetRepAsync(string id, ClaimsPrincipal user, SalesRepStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(user.WorkspaceId(), id, cancellationToken) is { } rep ? TypedResults.Ok(rep) : Problems.NotFound($"No sales rep '{id}' in this workspace.");

    private static async Task<Results<Created<SalesRep>, ProblemHttpResult>> CreateRepAsync(SalesRep? rep, ClaimsPrincipal user, SalesRepStore store, CancellationToken cancellationToken)
    {
        if (SlaValidation.Validate(rep) is { } error)
        {
            return Problems.BadRequest(error);
        }

        return await store.SaveAsync(user.WorkspaceId(), rep!, replace: false, cancellationToken)
            ? TypedResults.Created($"/api/sales-reps/{rep!.Id}", rep)
            : Problems.Conflict($"A sales rep '{rep!.Id}' exists already; PUT /api/sales-reps/{rep.Id} replaces it.");
    }

    private static async Task<Results<Ok<SalesRep>, ProblemHttpResult>> PutRepAsync(string id, SalesRep? rep, ClaimsPrincipal user, SalesRepStore store, CancellationToken cancellationToken)
    {
        rep = rep is null ? null : rep with { Id = rep.Id ?? id };
        if (SlaValidation.Validate(rep) is { } error)
        {
            return Problems.BadRequest(error);
        }

        if (rep!.Id != id)
        {
            return Problems.BadRequest($"The body's id '{rep.Id}' differs from the route's '{id}'.");
        }

        await store.SaveAsync(user.WorkspaceId(), rep, replace: true, cancellationToken);
        return TypedResults.Ok(rep);
    }

    private static async Task<Ok<SlaAgreement>> GetAgreementAsync(ClaimsPrincipal user, SlaAgreementStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.GetAsync(user.WorkspaceId(), cancellationToken));

    private static async Task<Results<Ok<SlaAgreement>, ProblemHttpResult>> PutAgreementAsync(SlaAgreement? agreement, ClaimsPrincipal user, SlaAgreementStore store, CancellationToken cancellationToken)
    {
        if (SlaValidation.Validate(agreement) is { } error)
        {
            return Problems.BadRequest(error);
        }

        return TypedResults.Ok(await store.SaveAsync(user.WorkspaceId(), agreement!, cancellationToken));
    }
}
