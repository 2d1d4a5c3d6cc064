using Modulith.Connectors.Sdk;
using Modulith.Customers.Contracts;
using Modulith.SharedKernel.Storage;
using System.Text.Json.Nodes;

namespace Modulith.Host.Connectors.Webhooks;

/// <summary>
/// Prepares a platform connector's facts for ingestion: privacy erasure requests are carried out at once (they are
/// never stored as events); facts that name only an order (refunds) are attributed to the customer who placed it,
/// from an index of the instance's orders that the order facts keep current.
/// </summary>
internal sealed partial class PlatformEventProcessor(Database database, ICustomerDirectory customers, ICustomerPrivacy privacy, ILogger<PlatformEventProcessor> logger)
{
    private static readonly HashSet<ConnectorEventKind> OrderKinds = [ConnectorEventKind.OrderPlaced, ConnectorEventKind.OrderPaid, ConnectorEventKind.OrderCancelled];

    /// <summary>Answers the Segment-shaped messages to ingest.</summary>
    public async Task<IReadOnlyList<JsonObject>> PrepareAsync(string connectorId, string instanceId, string workspaceId, IReadOnlyList<ConnectorEvent> events, CancellationToken cancellationToken)
    {
        var toIngest = new List<ConnectorEvent>(events.Count);
        foreach (var e in events)
        {
            if (e.Kind == ConnectorEventKind.CustomerErasureRequested)
            {
                await EraseAsync(connectorId, instanceId, workspaceId, e, cancellationToken);
                continue;
            }

            var customer = e.Customer;
            if (customer is { PlatformId: null, Email: null, Phone: null, AnonymousId: null, OrderId: { } orderId })
            {
                customer = await BuyerOfAsync(instanceId, orderId, cancellationToken) ?? customer with { AnonymousId = $"order:{orderId}" };
                toIngest.Add(e with { Customer = customer });
                continue;
            }

            if (OrderKinds.Contains(e.Kind) && e.Properties.GetValueOrDefault("order_id") is string placed && (customer.PlatformId ?? customer.Email ?? customer.Phone) is not null)
            {
                await RememberOrderAsync(instanceId, placed, customer, cancellationToken);
            }

            toIngest.Add(e);
        }

        return ConnectorEventMapper.ToSegment(connectorId, instanceId, toIngest);
    }

    private async Task EraseAsync(string connectorId, string instanceId, string workspaceId, ConnectorEvent request, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (request.Customer.PlatformId is { Length: > 0 } platformId && await customers.FindAsync(workspaceId, "anonymousId", $"{connectorId}:{platformId}", cancellationToken) is { } byPlatformId)
        {
            found.Add(byPlatformId);
        }

        if (request.Customer.Email is { Length: > 0 } email && await customers.FindAsync(workspaceId, "email", email.Trim().ToLowerInvariant(), cancellationToken) is { } byEmail)
        {
            found.Add(byEmail);
        }

        foreach (var customerId in found)
        {
            await privacy.EraseAsync(workspaceId, customerId, cancellationToken);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var forget = connection.Command(
            "DELETE FROM platform_orders WHERE instance_id = @instance AND (platform_customer_id = @pid OR email = @email)")
            .With("instance", instanceId).With("pid", request.Customer.PlatformId ?? string.Empty).With("email", request.Customer.Email?.Trim().ToLowerInvariant() ?? string.Empty);
        await forget.ExecuteNonQueryAsync(cancellationToken);
        LogErasureRequest(workspaceId, instanceId, found.Count);
    }

    private async Task RememberOrderAsync(string instanceId, string orderId, CustomerReference customer, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var upsert = connection.Command("""
            INSERT INTO platform_orders (instance_id, order_id, platform_customer_id, email, phone) VALUES (@instance, @order, @pid, @email, @phone)
            ON CONFLICT (instance_id, order_id) DO UPDATE SET platform_customer_id = COALESCE(excluded.platform_customer_id, platform_orders.platform_customer_id),
                email = COALESCE(excluded.email, platform_orders.email), phone = COALESCE(excluded.phone, platform_orders.phone)
            """).With("instance", instanceId).With("order", orderId).With("pid", customer.PlatformId).With("email", customer.Email?.Trim().ToLowerInvariant()).With("phone", customer.Phone);
        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<CustomerReference?> BuyerOfAsync(string instanceId, string orderId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var select = connection.Command("SELECT platform_customer_id, email, phone FROM platform_orders WHERE instance_id = @instance AND order_id = @order")
            .With("instance", instanceId).With("order", orderId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new CustomerReference(reader.NullableString(0), reader.NullableString(1), reader.NullableString(2), null) { OrderId = orderId }
            : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request from connector instance {InstanceId} of workspace {WorkspaceId}: {Customers} profile(s) erased")]
    private partial void LogErasureRequest(string workspaceId, string instanceId, int customers);
}
