namespace Modulith.SharedKernel.Storage;

/// <summary>
/// The durable side of grain timers: one due time per key in a table <c>(workspace_id, {key}, due_at)</c> that a
/// module creates with an index on <c>due_at</c>; each silo scans it for what is (almost) due.
/// </summary>
/// <param name="database">The platform database.</param>
/// <param name="table">The module's table (a constant of the module, never user input).</param>
/// <param name="keyColumn">Its key column.</param>
public sealed class DueTimeTable(Database database, string table, string keyColumn)
{
    /// <summary>Sets the key's due time, or removes it (null).</summary>
    public async Task SetAsync(string workspaceId, string key, DateTimeOffset? due)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var command = due is { } at
            ? connection.Command($"INSERT INTO {table} (workspace_id, {keyColumn}, due_at) VALUES (@ws, @key, @due) ON CONFLICT (workspace_id, {keyColumn}) DO UPDATE SET due_at = excluded.due_at")
                .With("due", at.ToUnixTimeMilliseconds())
            : connection.Command($"DELETE FROM {table} WHERE workspace_id = @ws AND {keyColumn} = @key");
        command.With("ws", workspaceId).With("key", key);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The keys due at or before <paramref name="until"/>, earliest first.</summary>
    public async Task<IReadOnlyList<(string WorkspaceId, string Key)>> DueAsync(DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT workspace_id, {keyColumn} FROM {table} WHERE due_at <= @until ORDER BY due_at LIMIT @limit")
            .With("until", until.ToUnixTimeMilliseconds()).With("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var due = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add((reader.GetString(0), reader.GetString(1)));
        }

        return due;
    }
}
