using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Modulith.Customers.Contracts;
using Modulith.Customers.Directory;
using Modulith.Customers.Identity;
using Modulith.Customers.Profiles;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Customers.Endpoints;

/// <summary>Body of <c>POST /api/customers/{id}/unmerge</c>.</summary>
/// <param name="CustomerId">The merged-in profile to split off again; the latest merge when absent.</param>
public sealed record UnmergeRequest(string? CustomerId);

/// <summary>The two profiles after an unmerge.</summary>
/// <param name="Survivor">The profile that had absorbed the other.</param>
/// <param name="Restored">The profile split off again.</param>
public sealed record UnmergeResult(CustomerProfile Survivor, CustomerProfile Restored);

internal static class CustomerEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers").WithTags("Customers");
        group.MapGet("/", SearchAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Find customers by email, phone, userId or anonymousId (exact, normalised), or by text in id, ids, email, phone and name (paged).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        group.MapGet("/{id}", GetAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The single customer view: identities, traits, consents, orders, touchpoints, metrics, recent events, merges. A merged-away id answers the surviving profile.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        group.MapGet("/{id}/timeline", TimelineAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The customer's full event history from the durable event log, newest first, paged with a cursor.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();
        group.MapPost("/{id}/unmerge", UnmergeAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Undo a merge: split a merged-in profile off again (the latest merge unless 'customerId' names one), restoring both profiles.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        group.MapPost("/{id}/erase", EraseAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Erase the person's data (right to erasure): traits, identities, consents, touchpoints and stored event payloads (also of events not applied yet), also of merged-in profiles, and what the lead and the segment facts kept of them; anonymous counts and attribution's touches (channel, campaign, time) stay. Idempotent.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
    }

    private static async Task<Results<Ok<CustomerErasure>, ProblemHttpResult>> EraseAsync(string id, ClaimsPrincipal user, ICustomerPrivacy privacy, CancellationToken cancellationToken) =>
        await privacy.EraseAsync(user.WorkspaceId(), id, cancellationToken) is { } erased
            ? TypedResults.Ok(erased)
            : Problems.NotFound($"No customer '{id}' in this workspace.");

    private static async Task<Results<Ok<Page<CustomerListItem>>, ProblemHttpResult>> SearchAsync(
        ClaimsPrincipal user, CustomerQueries queries, CustomerDirectoryStore directory, IOptions<CustomersOptions> options,
        string? email, string? phone, string? userId, string? anonymousId, string? q, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var workspaceId = user.WorkspaceId();
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }

        IdentityKey? exact = null;
        if (email is not null)
        {
            var normalised = IdentityNormalizer.Email(email);
            if (normalised is null)
            {
                return Problems.BadRequest("'email' is not a valid email address.");
            }

            exact = new IdentityKey(IdentityKey.Email, normalised);
        }
        else if (phone is not null)
        {
            var normalised = IdentityNormalizer.Phone(phone, options.Value.DefaultPhoneRegion);
            if (normalised is null)
            {
                return Problems.BadRequest("'phone' is not a valid phone number (use E.164, e.g. +48601234567).");
            }

            exact = new IdentityKey(IdentityKey.Phone, normalised);
        }
        else if (userId is not null)
        {
            exact = new IdentityKey(IdentityKey.UserId, userId.Trim());
        }
        else if (anonymousId is not null)
        {
            exact = new IdentityKey(IdentityKey.AnonymousId, anonymousId.Trim());
        }

        if (exact is { } key)
        {
            var found = await queries.FindAsync(workspaceId, key.Kind, key.Value, cancellationToken);
            var state = found is null ? null : await queries.ResolveAsync(workspaceId, found);
            IReadOnlyList<CustomerListItem> items = state is null ? [] : [ToItem(CustomerListEntry.Of(state))];
            return TypedResults.Ok(new Page<CustomerListItem>(items, null));
        }

        if (q is { Length: > 200 })
        {
            return Problems.BadRequest("'q' is longer than 200 characters.");
        }

        var page = await directory.SearchAsync(workspaceId, q, cursor, size + 1, cancellationToken);
        var next = page.Count > size ? page[size - 1].Id : null;
        return TypedResults.Ok(new Page<CustomerListItem>(page.Take(size).ToList(), next));
    }

    private static async Task<Results<Ok<CustomerProfile>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, CustomerQueries queries, CancellationToken cancellationToken)
    {
        var profile = await queries.GetProfileAsync(user.WorkspaceId(), id, cancellationToken);
        return profile is null ? Problems.NotFound($"No customer '{id}' in this workspace.") : TypedResults.Ok(profile);
    }

    private static async Task<Results<Ok<Page<TimelineEntry>>, ProblemHttpResult>> TimelineAsync(
        string id, ClaimsPrincipal user, CustomerQueries queries, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }

        try
        {
            var timeline = await queries.TimelineAsync(user.WorkspaceId(), id, cursor, size, cancellationToken);
            return timeline is null
                ? Problems.NotFound($"No customer '{id}' in this workspace.")
                : TypedResults.Ok(new Page<TimelineEntry>(timeline.Value.Entries, timeline.Value.NextCursor));
        }
        catch (FormatException)
        {
            return Problems.BadRequest("'cursor' is not valid; pass the nextCursor of a previous page.");
        }
    }

    private static async Task<Results<Ok<UnmergeResult>, ProblemHttpResult>> UnmergeAsync(
        string id, UnmergeRequest? request, ClaimsPrincipal user, CustomerQueries queries, CancellationToken cancellationToken)
    {
        var result = await queries.UnmergeAsync(user.WorkspaceId(), id, request?.CustomerId, cancellationToken);
        return result is null
            ? Problems.NotFound(request?.CustomerId is null ? $"Customer '{id}' has no merge to undo." : $"Customer '{id}' has no merge of '{request.CustomerId}'.")
            : TypedResults.Ok(new UnmergeResult(result.Value.Survivor, result.Value.Restored));
    }

    private static CustomerListItem ToItem(CustomerListEntry e) => new(e.Id, e.UserId, e.Email, e.Phone, e.Name, e.LastSeen);
}
