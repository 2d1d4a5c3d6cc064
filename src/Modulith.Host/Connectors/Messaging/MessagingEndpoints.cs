using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Modulith.Host.Connectors.Instances;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Messaging;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Storage;
using Modulith.SharedKernel.Web;

namespace Modulith.Host.Connectors.Messaging;

internal static class MessagingEndpoints
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapMessagingEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/connector-instances/{id}").WithTags("Messages");
        group.MapPost("/messages", SendAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Queue a message on a channel instance: Handlebars templates for subject, text and HTML are rendered with 'data' (and the customer's profile as 'customer'); the message is stored before the answer, then sent with retries and back-off. The same idempotencyKey answers the same message.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        group.MapGet("/messages", ListAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The instance's messages, newest first; 'status' filters (pending, sending, sent, rejected, dead), 'cursor' pages.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/dead-letters", DeadLettersAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("The dead-letter list: messages whose retries are exhausted, with the last error; POST .../messages/{messageId}/retry sends one again.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/messages/{messageId}", GetAsync).RequireAuthorization(Policies.AnyRole)
            .WithSummary("One message: status, attempts, next attempt, provider id and last error.")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/messages/{messageId}/retry", RetryAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Send a dead letter again, with a fresh set of attempts.")
            .ProducesAuthProblems()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<Results<Accepted<ChannelMessageView>, ProblemHttpResult>> SendAsync(
        string id, ChannelMessageRequest? request, ClaimsPrincipal user, IChannelOutbox outbox, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.BadRequest("A JSON body with 'recipient' and a 'text' or 'html' body is required.");
        }

        try
        {
            var message = await outbox.EnqueueAsync(user.WorkspaceId(), id, request, cancellationToken);
            return TypedResults.Accepted($"/api/connector-instances/{id}/messages/{message.Id}", message);
        }
        catch (ChannelMessageRejectedException exception)
        {
            return exception.InstanceNotFound ? Problems.NotFound(exception.Message) : Problems.BadRequest(exception.Message);
        }
    }

    private static Task<Results<Ok<Page<ChannelMessageView>>, ProblemHttpResult>> DeadLettersAsync(
        string id, ClaimsPrincipal user, ConnectorInstanceStore instances, OutboxStore store, string? cursor, int? limit, CancellationToken cancellationToken) =>
        ListAsync(id, user, instances, store, MessageStatus.Dead, cursor, limit, cancellationToken);

    private static async Task<Results<Ok<Page<ChannelMessageView>>, ProblemHttpResult>> ListAsync(
        string id, ClaimsPrincipal user, ConnectorInstanceStore instances, OutboxStore store, string? status, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        if (!await OwnsAsync(instances, id, user, cancellationToken))
        {
            return Problems.NotFound($"No connector instance '{id}' in this workspace.");
        }

        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            return Problems.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }

        if (status is not null && !MessageStatus.All.Contains(status))
        {
            return Problems.BadRequest($"'status' must be one of {string.Join(", ", MessageStatus.All)}.");
        }

        if (cursor is not null && !OutboxStore.IsValidId(cursor))
        {
            return Problems.BadRequest("'cursor' is not a cursor this route gave out.");
        }

        var items = await store.ListAsync(user.WorkspaceId(), id, status, cursor, size + 1, cancellationToken);
        var page = items.Take(size).ToList();
        return TypedResults.Ok(new Page<ChannelMessageView>(page, items.Count > size ? page[^1].Id : null));
    }

    private static async Task<Results<Ok<ChannelMessageView>, ProblemHttpResult>> GetAsync(
        string id, string messageId, ClaimsPrincipal user, OutboxStore store, CancellationToken cancellationToken)
    {
        var message = OutboxStore.IsValidId(messageId) ? await store.GetAsync(user.WorkspaceId(), id, messageId, cancellationToken) : null;
        return message is null ? Problems.NotFound($"No message '{messageId}' on connector instance '{id}' in this workspace.") : TypedResults.Ok(message);
    }

    private static async Task<Results<Accepted<ChannelMessageView>, ProblemHttpResult>> RetryAsync(
        string id, string messageId, ClaimsPrincipal user, OutboxStore store, OutboxSignal signal, CancellationToken cancellationToken)
    {
        var workspaceId = user.WorkspaceId();
        var message = OutboxStore.IsValidId(messageId) ? await store.GetAsync(workspaceId, id, messageId, cancellationToken) : null;
        if (message is null)
        {
            return Problems.NotFound($"No message '{messageId}' on connector instance '{id}' in this workspace.");
        }

        if (!await store.RequeueDeadAsync(workspaceId, id, messageId, cancellationToken))
        {
            return Problems.Conflict($"The message is {message.Status}; only dead letters can be sent again.");
        }

        signal.Wake();
        return TypedResults.Accepted($"/api/connector-instances/{id}/messages/{messageId}", (await store.GetAsync(workspaceId, id, messageId, cancellationToken))!);
    }

    private static async Task<bool> OwnsAsync(ConnectorInstanceStore instances, string id, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        ConnectorInstanceStore.IsValidId(id) && await instances.BelongsToAsync(id, user.WorkspaceId(), cancellationToken);
}

internal static class MessagingSetup
{
    public static WebApplicationBuilder AddMessaging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ISchemaContributor, OutboxSchema>();
        builder.Services.Configure<MessagingOptions>(builder.Configuration.GetSection(MessagingOptions.Section));
        builder.Services.AddSingleton<OutboxStore>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<MessageTemplates>();
        builder.Services.AddSingleton<IChannelOutbox, ChannelOutbox>();
        builder.Services.AddHostedService<OutboxDispatcher>();
        return builder;
    }
}
