using Microsoft.AspNetCore.Http.HttpResults;
using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors.Instances;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel.Web;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Modulith.Host.Connectors.Webhooks;

/// <summary>The answer to an accepted inbound webhook.</summary>
/// <param name="Success">True: the webhook was verified and its events are durably stored.</param>
/// <param name="Events">How many events it carried.</param>
public sealed record WebhookAccepted(bool Success, int Events);

internal static class WebhookEndpoint
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapInboundWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/{instanceId}", ReceiveAsync)
            .WithTags("Connectors")
            .WithSummary("Inbound webhook of a connector instance: verified by the connector (signature, replay), deduplicated, stored durably, then processed asynchronously.")
            .Produces<WebhookAccepted>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Results<Ok<WebhookAccepted>, ProblemHttpResult>> ReceiveAsync(
        string instanceId, HttpContext context, ConnectorInstanceStore instances, PluginCatalog catalog, IEventIngestion ingestion, PlatformEventProcessor processor, TimeProvider clock, ILoggerFactory loggers)
    {
        var instance = ConnectorInstanceStore.IsValidId(instanceId) ? await instances.ResolveAsync(instanceId, context.RequestAborted) : null;
        if (instance is null)
        {
            return Problems.NotFound($"No connector instance '{instanceId}'.");
        }

        var (connectorId, settings) = instance.Value;
        var plugin = catalog.Plugins.FirstOrDefault(p => p.Manifest?.Id == connectorId && p.Status == PluginStatus.Loaded);
        if (plugin is null || (plugin.Platform is null && plugin.Channel is null))
        {
            context.Response.Headers.RetryAfter = "60";
            return TypedResults.Problem(detail: $"The connector '{connectorId}' is not loaded.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Connector unavailable.");
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (body.Length > MaxBodyBytes)
        {
            return Problems.BadRequest("The webhook body is larger than 1 MB.");
        }

        var webhook = new InboundWebhook(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            body.ToArray(),
            context.Request.ContentType,
            clock.GetUtcNow())
        {
            Query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase),
        };
        WebhookOutcome outcome;
        string? reason;
        IReadOnlyList<System.Text.Json.Nodes.JsonObject> messages;
        IReadOnlyList<ConnectorEvent> platformEvents = [];
        try
        {
            if (plugin.Platform is { } platform)
            {
                var result = await plugin.Resilience.ExecuteAsync(
                    static async (state, token) => await state.platform.HandleWebhookAsync(state.webhook, state.settings, token),
                    (platform, webhook, settings),
                    context.RequestAborted);
                (outcome, reason) = (result.Outcome, result.Reason);
                platformEvents = outcome == WebhookOutcome.Accepted ? result.Events : [];
                messages = [];
            }
            else
            {
                var channel = plugin.Channel!;
                var result = await plugin.Resilience.ExecuteAsync(
                    static async (state, token) => await state.channel.HandleCallbackAsync(state.webhook, state.settings, token),
                    (channel, webhook, settings),
                    context.RequestAborted);
                (outcome, reason) = (result.Outcome, result.Reason);
                messages = outcome == WebhookOutcome.Accepted ? ConnectorEventMapper.DeliveryToSegment(channel.Capabilities.Channel, instanceId, result.Events) : [];
            }
        }
        catch (Exception exception) when (exception is TimeoutRejectedException or BrokenCircuitException)
        {
            context.Response.Headers.RetryAfter = "30";
            return TypedResults.Problem(detail: $"The connector '{connectorId}' did not answer in time or is failing; retry later.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Connector unavailable.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            loggers.CreateLogger("Modulith.Connectors.Webhooks").LogWarning(exception, "Connector {ConnectorId} failed on a webhook of instance {InstanceId}", connectorId, instanceId);
            context.Response.Headers.RetryAfter = "30";
            return TypedResults.Problem(detail: $"The connector '{connectorId}' failed to process the webhook; retry later.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Connector failed.");
        }

        switch (outcome)
        {
            case WebhookOutcome.Rejected:
                return Problems.Unauthorized(reason ?? "The webhook could not be verified.");
            case WebhookOutcome.Acknowledged:
                return TypedResults.Ok(new WebhookAccepted(true, 0));
        }

        try
        {
            if (platformEvents.Count > 0)
            {
                messages = await processor.PrepareAsync(connectorId, instanceId, settings.WorkspaceId, platformEvents, context.RequestAborted);
            }

            var error = await ingestion.IngestAsync(settings.WorkspaceId, messages, context.RequestAborted);
            if (error is not null)
            {
                return Problems.BadRequest($"The connector produced events that are not valid: {error}");
            }
        }
        catch (IngestionOverCapacityException)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problems.TooManyRequests("Ingestion is over capacity; retry after the seconds in Retry-After.");
        }

        return TypedResults.Ok(new WebhookAccepted(true, messages.Count));
    }
}
