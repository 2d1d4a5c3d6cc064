using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Dispatch;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Ingestion.Endpoints;

/// <summary>What dispatch owes a workspace: its backlog, and the events it set aside.</summary>
internal static class DispatchEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;
    private const int MaxMessageIds = 1_000;

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/ingestion").WithTags("Ingestion");
        group.MapGet("/status", StatusAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The workspace's events acknowledged but not yet applied to profiles (pending), and those set aside after failing to apply (parked).")
            .ProducesAuthProblems();
        group.MapGet("/parked-events", ListAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Events that failed to apply even on their own and were set aside, oldest first, with the error; paged by cursor. They stay in the event log until retried.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        group.MapPost("/parked-events/retry", RetryAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Put parked events back in line for dispatch: those whose 'messageIds' are given, or all of the workspace's. An event that fails again is parked again.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
    }

    private static async Task<Ok<DispatchStatus>> StatusAsync(ClaimsPrincipal user, ParkedEventStore parked, CancellationToken cancellationToken) =>
        TypedResults.Ok(await parked.StatusAsync(user.WorkspaceId(), cancellationToken));

    private static async Task<Results<Ok<Page<ParkedEvent>>, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal user, ParkedEventStore parked, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }

        var after = 0L;
        if (cursor is not null && !(long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after) && after > 0))
        {
            return Problems.BadRequest("'cursor' is not a cursor this route gave out.");
        }

        var items = await parked.ListAsync(user.WorkspaceId(), after, size + 1, cancellationToken);
        return items.Count > size
            ? TypedResults.Ok(new Page<ParkedEvent>([.. items.Take(size)], items[size - 1].Sequence.ToString(CultureInfo.InvariantCulture)))
            : TypedResults.Ok(new Page<ParkedEvent>(items, null));
    }

    private static async Task<Results<Ok<ParkedEventsRequeued>, ProblemHttpResult>> RetryAsync(
        ClaimsPrincipal user, ParkedEventStore parked, IDispatchNotifier dispatch, RetryParkedEventsRequest? request, CancellationToken cancellationToken)
    {
        var messageIds = request?.MessageIds;
        if (messageIds is not null)
        {
            if (messageIds.Count is 0 or > MaxMessageIds)
            {
                return Problems.BadRequest($"'messageIds' must list between 1 and {MaxMessageIds} ids; leave it out to retry every parked event.");
            }

            if (messageIds.Any(string.IsNullOrWhiteSpace))
            {
                return Problems.BadRequest("'messageIds' must not contain empty ids.");
            }
        }

        var (requeued, partitions) = await parked.RequeueAsync(user.WorkspaceId(), messageIds, cancellationToken);
        dispatch.Notify(partitions);
        return TypedResults.Ok(new ParkedEventsRequeued(requeued));
    }
}
