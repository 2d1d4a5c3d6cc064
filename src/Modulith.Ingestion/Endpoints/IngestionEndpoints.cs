using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.EventLog;
using Modulith.Ingestion.Segment;
using Modulith.SharedKernel.Web;
using Modulith.Workspaces.Contracts;

namespace Modulith.Ingestion.Endpoints;

internal static class IngestionEndpoints
{
    /// <summary>The rate-limiting policy name the host defines for ingestion.</summary>
    public const string RateLimitPolicy = "ingestion";

    private static readonly (string Route, string Type, string Summary)[] Routes =
    [
        ("track", "track", "Record an action the customer took (Segment track)."),
        ("identify", "identify", "Tie the customer to their traits and ids (Segment identify)."),
        ("page", "page", "Record a page view (Segment page)."),
        ("screen", "screen", "Record a mobile screen view (Segment screen)."),
        ("group", "group", "Associate the customer with a group or company (Segment group)."),
        ("alias", "alias", "Link a previous id to the userId (Segment alias)."),
        ("t", "track", "Short form of /v1/track used by browser clients (text/plain body)."),
        ("i", "identify", "Short form of /v1/identify used by browser clients (text/plain body)."),
        ("p", "page", "Short form of /v1/page used by browser clients (text/plain body)."),
        ("s", "screen", "Short form of /v1/screen used by browser clients (text/plain body)."),
        ("g", "group", "Short form of /v1/group used by browser clients (text/plain body)."),
        ("a", "alias", "Short form of /v1/alias used by browser clients (text/plain body)."),
    ];

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Ingestion").RequireRateLimiting(RateLimitPolicy);
        foreach (var (route, type, summary) in Routes)
        {
            group.MapPost("/" + route, (HttpContext context, IngestionService service) => service.AcceptAsync(context, type))
                .WithSummary(summary)
                .WithMetadata(new DocumentedBody(typeof(SegmentMessage)))
                .Produces<IngestionAccepted>()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status429TooManyRequests);
        }

        foreach (var route in (string[])["batch", "b", "import"])
        {
            group.MapPost("/" + route, (HttpContext context, IngestionService service) => service.AcceptAsync(context, null))
                .WithSummary(route switch
                {
                    "batch" => "Send many messages at once (Segment batch): all are stored, or none.",
                    "b" => "Short form of /v1/batch used by browser clients (text/plain body).",
                    _ => "Alias of /v1/batch (Segment import).",
                })
                .WithMetadata(new DocumentedBody(typeof(SegmentBatch)))
                .Produces<IngestionAccepted>()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status429TooManyRequests);
        }
    }
}

/// <summary>Authenticates, validates and durably appends Segment messages.</summary>
internal sealed class IngestionService(IWorkspaceDirectory workspaces, EventAppender appender, IngestionPressure pressure, TimeProvider clock) : IEventIngestion
{
    public async Task<string?> IngestAsync(string workspaceId, IReadOnlyList<System.Text.Json.Nodes.JsonObject> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return null;
        }

        var batch = new System.Text.Json.Nodes.JsonObject { ["batch"] = new System.Text.Json.Nodes.JsonArray(messages.Select(m => (System.Text.Json.Nodes.JsonNode)m.DeepClone()).ToArray()) };
        var result = SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes(batch.ToJsonString()), clock.GetUtcNow());
        if (result.Error is not null)
        {
            return result.Error;
        }

        try
        {
            await appender.AppendAsync(workspaceId, result.Events, cancellationToken);
        }
        catch (OverCapacityException exception)
        {
            throw new IngestionOverCapacityException(exception.Message, exception);
        }

        return null;
    }

    private static readonly IngestionAccepted Accepted = new(true);

    public async Task<Results<Ok<IngestionAccepted>, ProblemHttpResult>> AcceptAsync(HttpContext context, string? type)
    {
        var limit = type is null ? SegmentNormalizer.MaxBatchBytes : SegmentNormalizer.MaxEventBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        pressure.RequestStarted();
        try
        {
            var length = await ReadBodyAsync(context.Request.Body, buffer, limit + 1, context.RequestAborted);
            if (length > limit)
            {
                return Problems.BadRequest(type is null
                    ? $"The batch is larger than {SegmentNormalizer.MaxBatchBytes} bytes (500 KB)."
                    : $"The event is larger than {SegmentNormalizer.MaxEventBytes} bytes (32 KB).");
            }

            var body = buffer.AsSpan(0, length);
            var now = clock.GetUtcNow();
            var result = type is null ? SegmentNormalizer.NormalizeBatch(body, now) : SegmentNormalizer.NormalizeSingle(body, type, now);
            var writeKey = BasicUser(context.Request) ?? result.WriteKey;
            if (string.IsNullOrEmpty(writeKey))
            {
                return Problems.Unauthorized("Send the workspace write key as the HTTP Basic user name (empty password) or as 'writeKey' in the body.");
            }

            var workspaceId = await workspaces.AuthenticateWriteKeyAsync(writeKey, context.RequestAborted);
            if (workspaceId is null)
            {
                return Problems.Unauthorized("The write key is unknown or revoked.");
            }

            if (result.Error is not null)
            {
                return Problems.BadRequest(result.Error);
            }

            try
            {
                await appender.AppendAsync(workspaceId, result.Events, context.RequestAborted);
            }
            catch (OverCapacityException)
            {
                context.Response.Headers.RetryAfter = "1";
                return Problems.TooManyRequests("Ingestion is over capacity; retry after the number of seconds in Retry-After.");
            }

            pressure.EventsAccepted(result.Events.Count);
            return TypedResults.Ok(Accepted);
        }
        finally
        {
            pressure.RequestFinished();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<int> ReadBodyAsync(Stream body, byte[] buffer, int max, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < max)
        {
            var read = await body.ReadAsync(buffer.AsMemory(total, max - total), cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static string? BasicUser(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) ||
            !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? decoded : decoded[..colon];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
