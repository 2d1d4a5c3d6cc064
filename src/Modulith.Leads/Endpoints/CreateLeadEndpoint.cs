using System.Globalization;
using System.Net.Mail;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Customers.Contracts;
using Modulith.Ingestion.Contracts;
using Modulith.Leads.Contracts;
using Modulith.Leads.Pipeline;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Leads.Endpoints;

/// <summary>Body of <c>POST /api/leads</c>: a contact entered by sales or imported from a form or a trade-show list.</summary>
/// <param name="Email">The contact's email (email or phone is required).</param>
/// <param name="Phone">The contact's phone, preferably E.164.</param>
/// <param name="UserId">The shop's own id of the contact, if it has one.</param>
/// <param name="FirstName">First name.</param>
/// <param name="LastName">Last name.</param>
/// <param name="Company">Company.</param>
/// <param name="Title">Job title.</param>
/// <param name="Traits">Further profile traits (an object of scalar values or objects).</param>
/// <param name="Source">Where the lead came from; it becomes the lead's source and first touch.</param>
/// <param name="OwnerId">A rep to assign the lead to at once.</param>
/// <param name="Note">Why the lead was entered (kept in its history).</param>
/// <param name="IdempotencyKey">The same key never creates a second lead: a retried request answers the same lead.</param>
public sealed record CreateLeadRequest(
    string? Email = null,
    string? Phone = null,
    string? UserId = null,
    string? FirstName = null,
    string? LastName = null,
    string? Company = null,
    string? Title = null,
    JsonObject? Traits = null,
    CreateLeadSource? Source = null,
    string? OwnerId = null,
    string? Note = null,
    string? IdempotencyKey = null);

internal static class CreateLeadEndpoint
{
    private const int MaxTextLength = 200;
    private const int MaxIdempotencyKeyLength = 200;
    private static readonly TimeSpan ResolveWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static void Map(RouteGroupBuilder leads) =>
        leads.MapPost("/", CreateAsync).RequireAuthorization(Policies.SalesActions)
            .WithSummary("Enter a lead (email or phone required): stored durably as an identify event, so it joins an existing profile with the same identifiers; answers the lead, scored and staged.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesAuthProblems();

    private static async Task<Results<Created<LeadView>, Accepted<LeadCreationPending>, ProblemHttpResult>> CreateAsync(
        CreateLeadRequest? body, ClaimsPrincipal user, HttpContext context, IEventIngestion ingestion, ICustomerDirectory customers, IGrainFactory grains, SalesRepStore reps, TimeProvider clock)
    {
        if (Validate(body) is { } error)
        {
            return Problems.BadRequest(error);
        }

        var request = body!;
        var workspaceId = user.WorkspaceId();
        if (request.OwnerId is { } ownerId && await reps.GetAsync(workspaceId, ownerId, context.RequestAborted) is null)
        {
            return Problems.BadRequest($"'ownerId': there is no sales rep '{ownerId}' in this workspace.");
        }

        var by = LeadEndpoints.Actor(user);
        var key = request.IdempotencyKey is { } given
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(given)))[..32]
            : Guid.NewGuid().ToString("N");
        var anonymousId = "lead-api-" + key;
        var message = IdentifyMessage(request, anonymousId, clock.GetUtcNow());

        try
        {
            if (await ingestion.IngestAsync(workspaceId, [message], context.RequestAborted) is { } invalid)
            {
                return Problems.BadRequest(invalid);
            }
        }
        catch (IngestionOverCapacityException)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problems.TooManyRequests("Ingestion is over capacity; retry with the same idempotencyKey after the seconds in Retry-After.");
        }

        var lookup = "/api/customers?anonymousId=" + anonymousId;
        var lead = await WaitForLeadAsync(workspaceId, anonymousId, customers, grains, clock, context.RequestAborted);
        if (lead is null)
        {
            return TypedResults.Accepted(lookup, new LeadCreationPending(anonymousId, lookup));
        }

        var grain = grains.GetGrain<ILeadGrain>($"{workspaceId}/{lead.Id}");
        var recorded = await grain.RecordCreationAsync(by, request.Note);
        if (request.OwnerId is { } owner && recorded.Lead is { } current && current.OwnerId != owner)
        {
            var assigned = await grain.AssignAsync(by, owner);
            if (assigned.Lead is null)
            {
                return assigned.Status == 404
                    ? Problems.BadRequest($"The lead {lead.Id} was created but not assigned: {assigned.Error}")
                    : Problems.Conflict($"The lead {lead.Id} was created but not assigned: {assigned.Error}");
            }

            recorded = assigned;
        }

        return TypedResults.Created($"/api/leads/{lead.Id}", recorded.Lead ?? lead);
    }

    private static async Task<LeadView?> WaitForLeadAsync(
        string workspaceId, string anonymousId, ICustomerDirectory customers, IGrainFactory grains, TimeProvider clock, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + ResolveWait;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (await customers.FindAsync(workspaceId, "anonymousId", anonymousId, cancellationToken) is { } customerId
                && await grains.GetGrain<ILeadGrain>($"{workspaceId}/{customerId}").GetAsync() is { } lead && lead.Stage != LeadStages.Visitor)
            {
                return lead;
            }

            if (clock.GetUtcNow() >= deadline)
            {
                return null;
            }

            await Task.Delay(PollInterval, clock, cancellationToken);
        }

        return null;
    }

    private static JsonObject IdentifyMessage(CreateLeadRequest request, string anonymousId, DateTimeOffset now)
    {
        var traits = request.Traits is null ? new JsonObject() : (JsonObject)request.Traits.DeepClone();
        void Set(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                traits[name] = value.Trim();
            }
        }

        Set("email", request.Email);
        Set("phone", request.Phone);
        Set("firstName", request.FirstName);
        Set("lastName", request.LastName);
        Set("company", request.Company);
        Set("title", request.Title);

        var context = new JsonObject { ["library"] = new JsonObject { ["name"] = "modulith-leads-api", ["version"] = "1" } };
        if (request.Source is { } source)
        {
            var campaign = new JsonObject();
            if (!string.IsNullOrWhiteSpace(source.Source)) { campaign["source"] = source.Source.Trim(); }
            if (!string.IsNullOrWhiteSpace(source.Medium)) { campaign["medium"] = source.Medium.Trim(); }
            if (!string.IsNullOrWhiteSpace(source.Campaign)) { campaign["name"] = source.Campaign.Trim(); }
            context["campaign"] = campaign;
        }

        var message = new JsonObject
        {
            ["type"] = "identify",
            ["messageId"] = anonymousId,
            ["anonymousId"] = anonymousId,
            ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["traits"] = traits,
            ["context"] = context,
        };
        if (!string.IsNullOrWhiteSpace(request.UserId))
        {
            message["userId"] = request.UserId.Trim();
        }

        return message;
    }

    internal static string? Validate(CreateLeadRequest? body)
    {
        if (body is null)
        {
            return "A JSON body is required: at least 'email' or 'phone'.";
        }

        if (string.IsNullOrWhiteSpace(body.Email) && string.IsNullOrWhiteSpace(body.Phone))
        {
            return "A lead is a known contact: 'email' or 'phone' is required.";
        }

        if (!string.IsNullOrWhiteSpace(body.Email) && (!MailAddress.TryCreate(body.Email.Trim(), out var address) || address.Address != body.Email.Trim()))
        {
            return $"'email' is not an email address: '{Truncate(body.Email)}'.";
        }

        if (!string.IsNullOrWhiteSpace(body.Phone) && (body.Phone.Count(char.IsAsciiDigit) is < 6 or > 15 || body.Phone.Any(c => !(char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')' or '.'))))
        {
            return $"'phone' is not a phone number: '{Truncate(body.Phone)}' (use E.164, e.g. +48601234567).";
        }

        foreach (var (name, value) in new[] { ("email", body.Email), ("phone", body.Phone), ("userId", body.UserId), ("firstName", body.FirstName), ("lastName", body.LastName), ("company", body.Company), ("title", body.Title), ("ownerId", body.OwnerId), ("source.source", body.Source?.Source), ("source.medium", body.Source?.Medium), ("source.campaign", body.Source?.Campaign) })
        {
            if (value is { Length: > MaxTextLength })
            {
                return $"'{name}' is longer than {MaxTextLength} characters.";
            }
        }

        if (body.IdempotencyKey is { Length: 0 or > MaxIdempotencyKeyLength })
        {
            return $"'idempotencyKey' must have 1 to {MaxIdempotencyKeyLength} characters.";
        }

        if (body.Note is { Length: > 2000 })
        {
            return "'note' is longer than 2000 characters.";
        }

        return body.Traits is { } traits && traits.ToJsonString().Length > 16 * 1024 ? "'traits' is larger than 16 KB." : null;
    }

    private static string Truncate(string value) => value.Length <= 60 ? value : value[..60] + "…";
}
