using System.Data.Common;
using Modulith.SharedKernel.Storage;
using Modulith.Workspaces.Contracts;

namespace Modulith.Workspaces.Storage;

internal sealed record StoredKey(string Id, string WorkspaceId, string Name, string Kind, IReadOnlyList<string> Roles, string Prefix, bool PlatformAdmin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public ApiKeyView ToView() => new(Id, Name, Kind, Roles, Prefix, CreatedAt, RevokedAt);
}

internal sealed record StoredWorkspace(string Id, string Name, DateTimeOffset CreatedAt);

internal sealed class WorkspaceStore(Database database)
{
    private const string KeyColumns = "id, workspace_id, name, kind, roles, prefix, platform_admin, created_at, revoked_at";

    public async Task<bool> AnyWorkspaceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM workspaces");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) > 0;
    }

    public async Task<bool> CreateWorkspaceAsync(StoredWorkspace workspace, IReadOnlyList<(StoredKey Key, string Hash)> keys, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = connection.Command("INSERT INTO workspaces (id, name, created_at) VALUES (@id, @name, @at) ON CONFLICT DO NOTHING", transaction))
        {
            insert.With("id", workspace.Id).With("name", workspace.Name).With("at", workspace.CreatedAt.ToString("O"));
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        foreach (var (key, hash) in keys)
        {
            await InsertKeyAsync(connection, transaction, key, hash, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task CreateKeyAsync(StoredKey key, string hash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await InsertKeyAsync(connection, null, key, hash, cancellationToken);
    }

    public async Task<StoredWorkspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT id, name, created_at FROM workspaces WHERE id = @id").With("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredWorkspace(reader.GetString(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture))
            : null;
    }

    public async Task<StoredKey?> FindKeyByHashAsync(string hash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {KeyColumns} FROM api_keys WHERE key_hash = @hash").With("hash", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadKey(reader) : null;
    }

    public async Task<IReadOnlyList<StoredKey>> ListKeysAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {KeyColumns} FROM api_keys WHERE workspace_id = @ws ORDER BY created_at, id").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<StoredKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadKey(reader));
        }

        return keys;
    }

    public async Task<string?> RevokeKeyAsync(string workspaceId, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "UPDATE api_keys SET revoked_at = @at WHERE workspace_id = @ws AND id = @id AND revoked_at IS NULL RETURNING key_hash")
            .With("at", at.ToString("O")).With("ws", workspaceId).With("id", keyId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task InsertKeyAsync(DbConnection connection, DbTransaction? transaction, StoredKey key, string hash, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(
            "INSERT INTO api_keys (id, workspace_id, name, kind, roles, key_hash, prefix, platform_admin, created_at) VALUES (@id, @ws, @name, @kind, @roles, @hash, @prefix, @admin, @at)",
            transaction);
        command.With("id", key.Id).With("ws", key.WorkspaceId).With("name", key.Name).With("kind", key.Kind)
            .With("roles", string.Join(',', key.Roles)).With("hash", hash).With("prefix", key.Prefix)
            .With("admin", key.PlatformAdmin ? 1 : 0).With("at", key.CreatedAt.ToString("O"));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static StoredKey ReadKey(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4).Split(',', StringSplitOptions.RemoveEmptyEntries),
        reader.GetString(5),
        Convert.ToInt64(reader.GetValue(6)) != 0,
        DateTimeOffset.Parse(reader.GetString(7), System.Globalization.CultureInfo.InvariantCulture),
        reader.IsDBNull(8) ? null : DateTimeOffset.Parse(reader.GetString(8), System.Globalization.CultureInfo.InvariantCulture));
}
