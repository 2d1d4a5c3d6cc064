using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Customers.Contracts;
using Modulith.Ingestion.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Orders;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Segmentation.Endpoints;

internal static class ValueEndpoints
{
    public const long MaxImportBytes = 128L * 1024 * 1024;
    public const int MaxImportOrders = 2_000_000;
    private const double DefaultHorizonWeeks = 52;

    public static void Map(IEndpointRouteBuilder app)
    {
        var clv = app.MapGroup("/api/clv").WithTags("Customer value");
        clv.MapGet("/model", ModelAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's BG/NBD (purchases, dropout) and Gamma-Gamma (spend) parameters, in weeks, fitted by maximum likelihood on the order history up to asOf (a day, inclusive; today by default).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();
        clv.MapGet("/customers/{id}", CustomerAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("A customer's value: historical revenue and margin, probability alive, churn probability, expected purchases and spend over horizonWeeks (52 by default) and the predicted CLV.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();

        var imports = app.MapGroup("/api/orders/import").WithTags("Customer value");
        imports.MapPost("/", ImportAsync).RequireAuthorization(Policies.Admin)
            .Accepts<string>("text/csv", "application/x-ndjson", "application/jsonl")
            .WithSummary("Import an order history (CSV with a header row, or JSON lines): order_id, placed_at, revenue, currency, margin and user_id, email, phone or anonymous_id. Every row is validated first (400 lists the bad lines, nothing is stored); the orders then become historical Order Completed events in the background, yielding to live traffic. Importing the same orders again changes nothing.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesAuthProblems();
        imports.MapGet("/", ListImportsAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's latest imports with their progress.")
            .ProducesAuthProblems();
        imports.MapGet("/{id}", ImportStatusAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("One import's progress: orders in the file, stored as events, applied to profiles.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
    }

    private static async Task<Results<Ok<ClvModel>, ProblemHttpResult>> ModelAsync(string? asOf, ClaimsPrincipal user, ICustomerValueService value, CancellationToken cancellationToken)
    {
        if (!TryParseDay(asOf, out var day, out var error))
        {
            return error;
        }

        var model = await value.ModelAsync(user.WorkspaceId(), day, cancellationToken);
        return model is null
            ? Problems.NotFound($"Not enough order history to fit the models{(day is null ? string.Empty : $" up to {day:yyyy-MM-dd}")}: at least 10 customers with an order and one repeat purchase are needed.")
            : TypedResults.Ok(model);
    }

    private static async Task<Results<Ok<CustomerValue>, ProblemHttpResult>> CustomerAsync(
        string id, double? horizonWeeks, string? asOf, ClaimsPrincipal user, ICustomerDirectory customers, ICustomerValueService value, CancellationToken cancellationToken)
    {
        var horizon = horizonWeeks ?? DefaultHorizonWeeks;
        if (!double.IsFinite(horizon) || horizon is <= 0 or > 520)
        {
            return Problems.BadRequest("'horizonWeeks' must be more than 0 and at most 520.");
        }

        if (!TryParseDay(asOf, out var day, out var error))
        {
            return error;
        }

        var workspaceId = user.WorkspaceId();
        var profile = await customers.GetProfileAsync(workspaceId, id, cancellationToken);
        if (profile is null)
        {
            return Problems.NotFound($"No customer '{id}' in this workspace.");
        }

        var result = await value.CustomerAsync(workspaceId, profile.Id, horizon, day, cancellationToken);
        return result is null ? Problems.NotFound($"The customer '{profile.Id}' has no order{(day is null ? string.Empty : $" up to {day:yyyy-MM-dd}")}.") : TypedResults.Ok(result);
    }

    /// <summary>An optional <c>asOf</c> day (yyyy-MM-dd); false with the 400 to answer when it is not one.</summary>
    private static bool TryParseDay(string? asOf, out DateOnly? day, out ProblemHttpResult error)
    {
        day = null;
        error = null!;
        if (asOf is null)
        {
            return true;
        }

        if (DateOnly.TryParseExact(asOf, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            day = parsed;
            return true;
        }

        error = Problems.BadRequest($"'asOf' must be a day as yyyy-MM-dd (got '{(asOf.Length > 40 ? asOf[..40] : asOf)}').");
        return false;
    }

    private static async Task<Results<Accepted<OrderImportStatus>, ProblemHttpResult>> ImportAsync(
        HttpContext context, ClaimsPrincipal user, OrderImportStore store, OrderImportWorker worker, TimeProvider clock)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var format = mediaType switch
        {
            "text/csv" or "application/csv" => "csv",
            "application/x-ndjson" or "application/jsonl" or "application/jsonlines" or "application/x-jsonlines" => "jsonl",
            _ => null,
        };
        if (format is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type",
                detail: "Send the orders as text/csv (with a header row) or application/x-ndjson (one JSON object per line).");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxImportBytes;
        }

        // The parsers read synchronously, which Kestrel refuses on the request stream: take the body in first.
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        body.Position = 0;
        using var reader = new StreamReader(body, Encoding.UTF8);
        var (orders, errors) = format == "csv"
            ? OrderImportParser.ParseCsv(reader, MaxImportOrders)
            : OrderImportParser.ParseJsonLines(reader, MaxImportOrders);
        if (errors.Count > 0)
        {
            return Problems.BadRequest($"The import has invalid rows; nothing was imported. {errors[0]}", new Dictionary<string, object?> { ["errors"] = errors });
        }

        var duplicate = orders.GroupBy(o => o.OrderId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return Problems.BadRequest($"The order_id '{duplicate.Key}' appears on lines {string.Join(", ", duplicate.Select(o => o.Line).Take(5))}; nothing was imported.");
        }

        var job = await store.CreateAsync(user.WorkspaceId(), format, orders, user.FindFirstValue(ModulithClaims.KeyId), context.RequestAborted);
        worker.Wake();
        return TypedResults.Accepted($"/api/orders/import/{job.Id}", ToStatus(job, 0));
    }

    private static async Task<Ok<IReadOnlyList<OrderImportStatus>>> ListImportsAsync(
        ClaimsPrincipal user, OrderImportStore store, OrderHistoryStore history, IEventBacklog backlog, CancellationToken cancellationToken)
    {
        var jobs = await store.ListAsync(user.WorkspaceId(), cancellationToken);
        var statuses = new List<OrderImportStatus>(jobs.Count);
        foreach (var job in jobs)
        {
            statuses.Add(await ProgressAsync(job, store, history, backlog, cancellationToken));
        }

        return TypedResults.Ok<IReadOnlyList<OrderImportStatus>>(statuses);
    }

    private static async Task<Results<Ok<OrderImportStatus>, ProblemHttpResult>> ImportStatusAsync(
        string id, ClaimsPrincipal user, OrderImportStore store, OrderHistoryStore history, IEventBacklog backlog, CancellationToken cancellationToken) =>
        await store.GetAsync(user.WorkspaceId(), id, cancellationToken) is { } job
            ? TypedResults.Ok(await ProgressAsync(job, store, history, backlog, cancellationToken))
            : Problems.NotFound($"No order import '{id}' in this workspace.");

    /// <summary>An import is completed once every order is ingested and nothing waits to be applied (re-imported orders are deduplicated, so they never count as applied).</summary>
    private static async Task<OrderImportStatus> ProgressAsync(OrderImportJob job, OrderImportStore store, OrderHistoryStore history, IEventBacklog backlog, CancellationToken cancellationToken)
    {
        var applied = await history.CountImportedAsync(job.WorkspaceId, job.Id, cancellationToken);
        if (job.Status == "applying" && (applied >= job.Total || await backlog.CountPendingAsync(cancellationToken) == 0))
        {
            await store.FinishAsync(job.WorkspaceId, job.Id, "completed", null, cancellationToken);
            job = job with { Status = "completed" };
        }

        return ToStatus(job, applied);
    }

    private static OrderImportStatus ToStatus(OrderImportJob job, long applied) =>
        new(job.Id, job.Status, job.Format, job.Total, job.Ingested, applied, job.Error, job.CreatedAt, job.UpdatedAt);
}
