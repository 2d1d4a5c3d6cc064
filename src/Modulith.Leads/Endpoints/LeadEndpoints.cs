using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Leads.Contracts;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Scoring;
using Modulith.Leads.Sla;
using Modulith.Leads.Storage;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Leads.Endpoints;

/// <summary>Body of <c>POST /api/leads/{id}/contact</c>.</summary>
/// <param name="Channel">call, email, meeting, chat ...</param>
/// <param name="Note">What was said.</param>
public sealed record ContactRequest(string? Channel = null, string? Note = null);

/// <summary>Body of <c>POST /api/leads/{id}/reject</c>.</summary>
/// <param name="Reason">poor_quality, not_ready_to_buy, no_contact_data, long_decision_time, wrong_decision_maker, no_product_fit or other.</param>
/// <param name="Note">Detail (required with <c>other</c>).</param>
public sealed record RejectRequest(string? Reason, string? Note = null);

/// <summary>Body of <c>POST /api/leads/{id}/assign</c>.</summary>
/// <param name="RepId">The rep; absent: by the SLA policy's strategy.</param>
public sealed record AssignRequest(string? RepId = null);

/// <summary>Body of <c>POST /api/leads/{id}/recycle</c>.</summary>
/// <param name="Note">Why.</param>
public sealed record RecycleRequest(string? Note = null);


internal static partial class LeadEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    [GeneratedRegex("^cus_[0-9a-f]{32}$")]
    private static partial Regex LeadIdPattern();

    public static void Map(IEndpointRouteBuilder app)
    {
        var leads = app.MapGroup("/api/leads").WithTags("Leads");
        leads.MapGet("/", ListAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Leads (known contacts), filtered by stage, owner and whether the SLA was breached; paged by cursor.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        CreateLeadEndpoint.Map(leads);
        leads.MapGet("/{id}", GetAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("One lead: stage and history, the score with each rule's contribution, the owner with every assignment and its reason, the SLA clock.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        MapAction<ContactRequest>(leads, "/{id}/contact", "Record a sales touch (call, email, meeting); the first one stops the SLA clock.",
            (grain, by, body) => grain.ContactAsync(by, body?.Channel, body?.Note));
        MapAction<object>(leads, "/{id}/accept", "Accept an SQL (sales takes it).", (grain, by, _) => grain.AcceptAsync(by));
        MapAction<RejectRequest>(leads, "/{id}/reject", "Reject an SQL with a reason: poor_quality, not_ready_to_buy, no_contact_data, long_decision_time, wrong_decision_maker, no_product_fit, other (with a note).",
            (grain, by, body) => grain.RejectAsync(by, body!.Reason!, body.Note), validate: body =>
                body?.Reason is null || !RejectionReasons.All.Contains(body.Reason)
                    ? $"'reason' is required: one of {string.Join(", ", RejectionReasons.All)}."
                    : body.Reason == "other" && string.IsNullOrWhiteSpace(body.Note) ? "A rejection for 'other' reasons needs a 'note'." : null);
        MapAction<RecycleRequest>(leads, "/{id}/recycle", "Send the lead back to nurturing; it qualifies again only on new behaviour.", (grain, by, body) => grain.RecycleAsync(by, body?.Note));
        MapAction<AssignRequest>(leads, "/{id}/assign", "Assign to a rep, or by the SLA policy's strategy when no repId is given; audited with the reason.",
            (grain, by, body) => grain.AssignAsync(by, body?.RepId));
        MapAction<object>(leads, "/{id}/pause", "Pause the SLA clock (e.g. the customer asked to be called next week).", (grain, by, _) => grain.PauseSlaAsync(by, pause: true));
        MapAction<object>(leads, "/{id}/resume", "Resume a paused SLA clock with the business time it had left.", (grain, by, _) => grain.PauseSlaAsync(by, pause: false));

        var model = app.MapGroup("/api/scoring-model").WithTags("Leads");
        model.MapGet("/", GetModelAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The workspace's current scoring model (SPEC §2's default until one is put), with its version.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        model.MapPut("/", PutModelAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Store a new version of the scoring model (rules, fit and engagement, caps, decay, MQL and SQL criteria); existing leads are rescored in the background.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        model.MapGet("/history", HistoryAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("Every stored version: number, time and who stored it.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        model.MapGet("/rescore", RescoreStatus).RequireAuthorization(Policies.AnyRole)
            .WithSummary("Progress of the background rescore after the latest model change.")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static void MapAction<TBody>(RouteGroupBuilder group, string pattern, string summary, Func<ILeadGrain, string, TBody?, Task<LeadActionResult>> action, Func<TBody?, string?>? validate = null)
        where TBody : class
    {
        group.MapPost(pattern, async Task<Results<Ok<LeadView>, ProblemHttpResult>> (string id, TBody? body, ClaimsPrincipal user, IGrainFactory grains) =>
            {
                if (validate?.Invoke(body) is { } error)
                {
                    return Problems.BadRequest(error);
                }

                if (!LeadIdPattern().IsMatch(id))
                {
                    return Problems.NotFound($"No lead '{id}' in this workspace.");
                }

                var by = Actor(user);
                var result = await action(grains.GetGrain<ILeadGrain>($"{user.WorkspaceId()}/{id}"), by, body);
                return result.Lead is { } lead
                    ? TypedResults.Ok(lead)
                    : result.Status == 404 ? Problems.NotFound($"No lead '{id}' in this workspace: {result.Error}")
                    : result.Status == 409 ? Problems.Conflict(result.Error!)
                    : Problems.BadRequest(result.Error!);
            })
            .RequireAuthorization(Policies.SalesActions)
            .WithSummary(summary)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesAuthProblems();
    }

    /// <summary>Who acts, for a lead's history: the API key's name, else its id.</summary>
    internal static string Actor(ClaimsPrincipal user) => user.Identity?.Name ?? user.FindFirstValue(ModulithClaims.KeyId) ?? "api";

    private static async Task<Results<Ok<Page<LeadView>>, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal user, LeadProjectionStore projection, IGrainFactory grains, string? stage, string? owner, bool? breached, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }

        if (stage is not null && !LeadStages.All.Contains(stage))
        {
            return Problems.BadRequest($"'stage' must be one of {string.Join(", ", LeadStages.All)}.");
        }

        if (cursor is not null && !LeadIdPattern().IsMatch(cursor))
        {
            return Problems.BadRequest("'cursor' is not a cursor this route gave out.");
        }

        var workspaceId = user.WorkspaceId();
        var ids = await projection.ListAsync(workspaceId, stage, owner, breached, cursor, size + 1, cancellationToken);
        var page = ids.Take(size).ToList();
        var views = await Task.WhenAll(page.Select(id => grains.GetGrain<ILeadGrain>($"{workspaceId}/{id}").GetAsync()));
        return TypedResults.Ok(new Page<LeadView>(views.Where(v => v is not null).Select(v => v!).ToList(), ids.Count > size ? page[^1] : null));
    }

    private static async Task<Results<Ok<LeadView>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, IGrainFactory grains) =>
        LeadIdPattern().IsMatch(id) && await grains.GetGrain<ILeadGrain>($"{user.WorkspaceId()}/{id}").GetAsync() is { } lead
            ? TypedResults.Ok(lead)
            : Problems.NotFound($"No lead '{id}' in this workspace.");

    private static async Task<Ok<ScoringModel>> GetModelAsync(ClaimsPrincipal user, ScoringModelStore models, CancellationToken cancellationToken) =>
        TypedResults.Ok(await models.CurrentAsync(user.WorkspaceId(), cancellationToken: cancellationToken));

    private static async Task<Ok<IReadOnlyList<ScoringModel>>> HistoryAsync(ClaimsPrincipal user, ScoringModelStore models, CancellationToken cancellationToken) =>
        TypedResults.Ok(await models.HistoryAsync(user.WorkspaceId(), cancellationToken));

    private static async Task<Results<Ok<ScoringModel>, ProblemHttpResult>> PutModelAsync(
        ScoringModel? model, ClaimsPrincipal user, ScoringModelStore models, Rescorer rescorer, CancellationToken cancellationToken)
    {
        if (ScoringModelValidator.Validate(model) is { } error)
        {
            return Problems.BadRequest(error);
        }

        var workspaceId = user.WorkspaceId();
        var stored = await models.SaveAsync(workspaceId, model!, user.FindFirstValue(ModulithClaims.KeyId), cancellationToken);
        rescorer.Start(workspaceId, stored.Version);
        return TypedResults.Ok(stored);
    }

    private static Results<Ok<RescoreProgress>, ProblemHttpResult> RescoreStatus(ClaimsPrincipal user, Rescorer rescorer) =>
        rescorer.Progress(user.WorkspaceId()) is { } progress ? TypedResults.Ok(progress) : Problems.NotFound("No rescore has run since the host started.");
}
