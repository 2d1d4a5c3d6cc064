using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Modulith.SharedKernel.Storage;
using Modulith.Segmentation.Contracts;

namespace Modulith.Segmentation.Orders;

internal sealed record OrderImportJob(string WorkspaceId, string Id, string Status, string Format, int Total, int Chunks, int NextChunk, int Ingested, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Import jobs and their pending chunks of Segment messages, so any silo can resume an import after a restart.</summary>
internal sealed class OrderImportStore(Database database, TimeProvider clock)
{
    public const int ChunkSize = 500;

    public async Task<OrderImportJob> CreateAsync(string workspaceId, string format, IReadOnlyList<ImportedOrder> orders, string? createdBy, CancellationToken cancellationToken)
    {
        var id = "imp_" + Guid.NewGuid().ToString("N");
        var now = clock.GetUtcNow();
        var chunks = orders.Chunk(ChunkSize).ToList();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        for (var i = 0; i < chunks.Count; i++)
        {
            var batch = new JsonArray(chunks[i].Select(o => (JsonNode)Message(id, o)).ToArray());
            await using var insert = connection.Command("INSERT INTO order_import_chunks (workspace_id, import_id, chunk, body) VALUES (@ws, @id, @chunk, @body)", transaction)
                .With("ws", workspaceId).With("id", id).With("chunk", i).With("body", batch.ToJsonString());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var job = connection.Command("""
            INSERT INTO order_imports (workspace_id, import_id, status, format, total, chunks, next_chunk, ingested, error, created_by, created_at, updated_at, lease_until)
            VALUES (@ws, @id, 'ingesting', @format, @total, @chunks, 0, 0, NULL, @by, @now, @now, 0)
            """, transaction))
        {
            job.With("ws", workspaceId).With("id", id).With("format", format).With("total", orders.Count).With("chunks", chunks.Count).With("by", createdBy)
                .With("now", now.ToUnixTimeMilliseconds());
            await job.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new OrderImportJob(workspaceId, id, "ingesting", format, orders.Count, chunks.Count, 0, 0, null, now, now);
    }

    public async Task<OrderImportJob?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var jobs = await QueryAsync("WHERE workspace_id = @ws AND import_id = @id", c => c.With("ws", workspaceId).With("id", id), cancellationToken);
        return jobs.FirstOrDefault();
    }

    public Task<List<OrderImportJob>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        QueryAsync("WHERE workspace_id = @ws ORDER BY created_at DESC LIMIT 100", c => c.With("ws", workspaceId), cancellationToken);

    /// <summary>Claims an import that is not finished and not held by a live lease (on any silo).</summary>
    public async Task<OrderImportJob?> ClaimAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var candidates = await QueryAsync("WHERE status = 'ingesting' AND lease_until < @now ORDER BY created_at LIMIT 5", c => c.With("now", now), cancellationToken);
        foreach (var job in candidates)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var claim = connection.Command(
                "UPDATE order_imports SET lease_until = @until WHERE workspace_id = @ws AND import_id = @id AND status = 'ingesting' AND lease_until < @now")
                .With("until", now + (long)lease.TotalMilliseconds).With("ws", job.WorkspaceId).With("id", job.Id).With("now", now);
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return job;
            }
        }

        return null;
    }

    public async Task<string?> ChunkAsync(OrderImportJob job, int chunk, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM order_import_chunks WHERE workspace_id = @ws AND import_id = @id AND chunk = @chunk")
            .With("ws", job.WorkspaceId).With("id", job.Id).With("chunk", chunk);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Records a chunk as ingested (and drops it), renewing the lease; the last one finishes the ingesting phase.</summary>
    public async Task AdvanceAsync(OrderImportJob job, int chunk, int orders, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.Command("""
            UPDATE order_imports SET next_chunk = @next, ingested = ingested + @orders, updated_at = @now, lease_until = @until,
                status = CASE WHEN @next >= chunks THEN 'applying' ELSE status END
            WHERE workspace_id = @ws AND import_id = @id AND next_chunk = @chunk
            """, transaction))
        {
            update.With("next", chunk + 1).With("orders", orders).With("now", now).With("until", now + (long)lease.TotalMilliseconds)
                .With("ws", job.WorkspaceId).With("id", job.Id).With("chunk", chunk);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var drop = connection.Command("DELETE FROM order_import_chunks WHERE workspace_id = @ws AND import_id = @id AND chunk = @chunk", transaction))
        {
            drop.With("ws", job.WorkspaceId).With("id", job.Id).With("chunk", chunk);
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task FinishAsync(string workspaceId, string id, string status, string? error, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var update = connection.Command("UPDATE order_imports SET status = @status, error = @error, updated_at = @now WHERE workspace_id = @ws AND import_id = @id")
            .With("status", status).With("error", error).With("now", clock.GetUtcNow().ToUnixTimeMilliseconds()).With("ws", workspaceId).With("id", id);
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The historical order as a Segment <c>Order Completed</c>; the message id is derived from the order id, so importing it again changes nothing.</summary>
    internal static JsonObject Message(string importId, ImportedOrder order)
    {
        var properties = new JsonObject
        {
            ["order_id"] = order.OrderId,
            ["revenue"] = order.Revenue,
        };
        if (order.Currency is not null)
        {
            properties["currency"] = order.Currency;
        }

        if (order.Margin is not null)
        {
            properties["margin"] = order.Margin;
        }

        var context = new JsonObject
        {
            ["library"] = new JsonObject { ["name"] = "modulith-order-import", ["version"] = "1" },
            ["import"] = new JsonObject { ["id"] = importId, ["line"] = order.Line },
        };
        if (order.Email is not null || order.Phone is not null)
        {
            var traits = new JsonObject();
            if (order.Email is not null) { traits["email"] = order.Email; }
            if (order.Phone is not null) { traits["phone"] = order.Phone; }
            context["traits"] = traits;
        }

        var message = new JsonObject
        {
            ["type"] = "track",
            ["event"] = OrderHistoryObserver.OrderCompleted,
            ["messageId"] = "order-import:" + Hash(order.OrderId),
            ["timestamp"] = order.PlacedAt.ToString("O", CultureInfo.InvariantCulture),
            ["properties"] = properties,
            ["context"] = context,
        };
        if (order.UserId is not null)
        {
            message["userId"] = order.UserId;
        }

        // Segment needs userId or anonymousId; an order known only by email or phone gets a stable anonymous id from it.
        message["anonymousId"] = order.AnonymousId ?? (order.UserId is null ? "order-import:" + Hash(order.Email ?? order.Phone!) : null);
        if (message["anonymousId"] is null)
        {
            message.Remove("anonymousId");
        }

        return message;
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    private async Task<List<OrderImportJob>> QueryAsync(string where, Action<System.Data.Common.DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT workspace_id, import_id, status, format, total, chunks, next_chunk, ingested, error, created_at, updated_at FROM order_imports " + where);
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<OrderImportJob>();
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new OrderImportJob(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture),
                Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(7), CultureInfo.InvariantCulture),
                reader.NullableString(8), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10))));
        }

        return jobs;
    }
}
