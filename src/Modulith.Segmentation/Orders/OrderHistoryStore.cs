using System.Globalization;
using Modulith.SharedKernel.Storage;

namespace Modulith.Segmentation.Orders;

/// <summary>One order as the value models see it.</summary>
internal sealed record OrderRow(string OrderKey, string CustomerId, DateTimeOffset PlacedAt, double Revenue, double? Margin, string? Currency, string? ImportId);

/// <summary>Every order of the workspace, keyed by order id, with the customer it belongs to (a projection of <c>Order Completed</c> events).</summary>
internal sealed class OrderHistoryStore
{
    private readonly Database database;
    private readonly GroupCommit<(string WorkspaceId, OrderRow Order)> _writes;

    public OrderHistoryStore(Database database)
    {
        this.database = database;
        _writes = new GroupCommit<(string, OrderRow)>(InsertAsync);
    }

    /// <summary>Records orders (idempotent by order key); concurrent callers share one transaction.</summary>
    public Task UpsertAsync(string workspaceId, IReadOnlyList<OrderRow> orders) => _writes.WriteAsync(orders.Select(o => (workspaceId, o)).ToList());

    private async Task InsertAsync(IReadOnlyList<(string WorkspaceId, OrderRow Order)> orders)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (workspaceId, order) in orders)
        {
            await using var command = connection.Command("""
                INSERT INTO customer_orders (workspace_id, order_key, customer_id, placed_at, revenue, margin, currency, import_id)
                VALUES (@ws, @key, @customer, @at, @revenue, @margin, @currency, @import)
                ON CONFLICT (workspace_id, order_key) DO UPDATE SET customer_id = excluded.customer_id
                """, transaction);
            command.With("ws", workspaceId).With("key", order.OrderKey).With("customer", order.CustomerId).With("at", order.PlacedAt.ToUnixTimeMilliseconds())
                .With("revenue", order.Revenue).With("margin", order.Margin).With("currency", order.Currency).With("import", order.ImportId);
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Streams the orders placed before <paramref name="until"/>, grouped by customer and sorted by time.</summary>
    public async IAsyncEnumerable<(string CustomerId, List<(DateOnly Day, double Amount)> Orders)> ByCustomerAsync(
        string workspaceId, DateTimeOffset until, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT customer_id, placed_at, revenue FROM customer_orders WHERE workspace_id = @ws AND placed_at < @until ORDER BY customer_id, placed_at")
            .With("ws", workspaceId).With("until", until.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        string? current = null;
        var orders = new List<(DateOnly, double)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var customer = reader.GetString(0);
            if (customer != current && current is not null)
            {
                yield return (current, orders);
                orders = [];
            }

            current = customer;
            orders.Add((DayOf(reader.GetInt64(1)), reader.GetDouble(2)));
        }

        if (current is not null)
        {
            yield return (current, orders);
        }
    }

    public async Task<IReadOnlyList<OrderRow>> OfCustomerAsync(string workspaceId, string customerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT order_key, placed_at, revenue, margin, currency, import_id FROM customer_orders WHERE workspace_id = @ws AND customer_id = @customer ORDER BY placed_at")
            .With("ws", workspaceId).With("customer", customerId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var orders = new List<OrderRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new OrderRow(reader.GetString(0), customerId, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetDouble(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.NullableString(4), reader.NullableString(5)));
        }

        return orders;
    }

    public async Task<long> CountImportedAsync(string workspaceId, string importId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM customer_orders WHERE workspace_id = @ws AND import_id = @import")
            .With("ws", workspaceId).With("import", importId);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public static DateOnly DayOf(long unixMilliseconds) => DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime);
}
