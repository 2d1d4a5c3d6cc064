using System.Globalization;
using Modulith.Customers.Contracts;
using Modulith.Customers.Profiles;
using Modulith.SharedKernel.Storage;

namespace Modulith.Customers.Directory;

internal sealed class CustomerDirectorySchema : ISchemaContributor
{
    private const string Tables = """
        CREATE TABLE customer_directory (
            workspace_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            user_id TEXT NULL,
            email TEXT NULL,
            phone TEXT NULL,
            name TEXT NULL,
            search TEXT NOT NULL,
            last_seen BIGINT NULL,
            merged_into TEXT NULL,
            PRIMARY KEY (workspace_id, customer_id)
        );
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("customers", 1, "customer directory for search and listing", Tables, Tables),
    ];
}

/// <summary>A search projection of the profiles (the grains are the source of truth; this is rebuilt from them).</summary>
internal sealed class CustomerDirectoryStore(Database database)
{
    public async Task UpsertAsync(string workspaceId, IReadOnlyCollection<CustomerListEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var upsert = connection.Command(
            "INSERT INTO customer_directory (workspace_id, customer_id, user_id, email, phone, name, search, last_seen, merged_into) " +
            "VALUES (@ws, @id, @uid, @email, @phone, @name, @search, @seen, @merged) " +
            "ON CONFLICT (workspace_id, customer_id) DO UPDATE SET user_id = excluded.user_id, email = excluded.email, phone = excluded.phone, " +
            "name = excluded.name, search = excluded.search, last_seen = excluded.last_seen, merged_into = excluded.merged_into",
            transaction);
        // In key order: concurrent transactions that update the same customers then lock their rows in the same order
        // and wait for each other instead of deadlocking (as PostgreSQL reported when drains of several silos overlapped).
        foreach (var entry in entries.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            upsert.Parameters.Clear();
            upsert.With("ws", workspaceId).With("id", entry.Id).With("uid", entry.UserId).With("email", entry.Email).With("phone", entry.Phone)
                .With("name", entry.Name).With("search", string.Join(' ', new[] { entry.Id, entry.UserId, entry.Email, entry.Phone, entry.Name }.Where(v => v is not null)).ToLowerInvariant())
                .With("seen", entry.LastSeen?.ToUnixTimeMilliseconds()).With("merged", entry.MergedInto);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Removes customers from the search projection (erasure).</summary>
    public async Task DeleteAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        foreach (var id in customerIds)
        {
            await using var delete = connection.Command("DELETE FROM customer_directory WHERE workspace_id = @ws AND customer_id = @id").With("ws", workspaceId).With("id", id);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Active (not merged-away) customers, optionally filtered by a text, ordered by id, after the cursor.</summary>
    public async Task<IReadOnlyList<CustomerListItem>> SearchAsync(string workspaceId, string? text, string? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var filter = string.IsNullOrWhiteSpace(text) ? string.Empty : " AND search LIKE @q ESCAPE '\\'";
        await using var command = connection.Command(
            "SELECT customer_id, user_id, email, phone, name, last_seen FROM customer_directory " +
            $"WHERE workspace_id = @ws AND merged_into IS NULL AND customer_id > @after{filter} ORDER BY customer_id LIMIT @n");
        command.With("ws", workspaceId).With("after", afterId ?? string.Empty).With("n", limit);
        if (filter.Length > 0)
        {
            var escaped = text!.Trim().ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
            command.With("q", "%" + escaped + "%");
        }

        var items = new List<CustomerListItem>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new CustomerListItem(
                reader.GetString(0), reader.NullableString(1), reader.NullableString(2), reader.NullableString(3), reader.NullableString(4),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture))));
        }

        return items;
    }

    public async Task<long> CountAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM customer_directory WHERE workspace_id = @ws AND merged_into IS NULL").With("ws", workspaceId);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, CustomerListItem>> DescribeAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        var items = new Dictionary<string, CustomerListItem>(StringComparer.Ordinal);
        if (customerIds.Count == 0)
        {
            return items;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in customerIds.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            await using var command = connection.CommandWithList(
                "SELECT customer_id, user_id, email, phone, name, last_seen FROM customer_directory WHERE workspace_id = @ws AND customer_id IN (@list)", chunk)
                .With("ws", workspaceId);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                items[reader.GetString(0)] = new CustomerListItem(
                    reader.GetString(0), reader.NullableString(1), reader.NullableString(2), reader.NullableString(3), reader.NullableString(4),
                    reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(5), CultureInfo.InvariantCulture)));
            }
        }

        return items;
    }
}
