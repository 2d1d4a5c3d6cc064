using System.Collections.Concurrent;
using Modulith.SharedKernel.Security;
using Modulith.Workspaces.Contracts;
using Modulith.Workspaces.Keys;
using Modulith.Workspaces.Storage;

namespace Modulith.Workspaces;

/// <summary>Resolves keys with a short-lived cache, so ingestion does not hit the database per request.</summary>
internal sealed class WorkspaceDirectory(WorkspaceStore store, TimeProvider clock) : IWorkspaceDirectory
{
    // Revocations on another silo take effect here within this time.
    private static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (StoredKey? Key, DateTimeOffset Until)> _byHash = new(StringComparer.Ordinal);

    public async ValueTask<string?> AuthenticateWriteKeyAsync(string writeKey, CancellationToken cancellationToken = default)
    {
        var key = await FindAsync(writeKey, cancellationToken);
        return key is { Kind: "write" } ? key.WorkspaceId : null;
    }

    public async ValueTask<ApiKeyIdentity?> AuthenticateApiKeyAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        var key = await FindAsync(apiKey, cancellationToken);
        return key is { Kind: "api" } ? new ApiKeyIdentity(key.Id, key.WorkspaceId, key.Roles, key.PlatformAdmin) : null;
    }

    public async ValueTask<bool> ExistsAsync(string workspaceId, CancellationToken cancellationToken = default) =>
        await store.FindWorkspaceAsync(workspaceId, cancellationToken) is not null;

    public void Forget(string hash) => _byHash.TryRemove(hash, out _);

    private async ValueTask<StoredKey?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 200)
        {
            return null;
        }

        var hash = KeyMaterial.Hash(secret);
        var now = clock.GetUtcNow();
        if (_byHash.TryGetValue(hash, out var cached) && cached.Until > now)
        {
            return cached.Key;
        }

        var key = await store.FindKeyByHashAsync(hash, cancellationToken);
        if (key?.RevokedAt is not null)
        {
            key = null;
        }

        if (_byHash.Count > 100_000)
        {
            _byHash.Clear();
        }

        _byHash[hash] = (key, now + CacheTime);
        return key;
    }
}

/// <summary>Creates workspaces and keys.</summary>
internal sealed class WorkspaceService(WorkspaceStore store, WorkspaceDirectory directory, TimeProvider clock)
{
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public async Task<CreatedWorkspace?> CreateWorkspaceAsync(string? id, string name, string? adminKey, string? writeKey, bool platformAdmin, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var workspace = new StoredWorkspace(id ?? KeyMaterial.NewId("ws_"), name, now);
        adminKey ??= KeyMaterial.NewSecret(KeyMaterial.ApiKeyPrefix);
        writeKey ??= KeyMaterial.NewSecret(KeyMaterial.WriteKeyPrefix);
        var keys = new List<(StoredKey, string)>
        {
            (new StoredKey(KeyMaterial.NewId("key_"), workspace.Id, "admin", "api", [Roles.Admin], KeyMaterial.DisplayPrefix(adminKey), platformAdmin, now, null), KeyMaterial.Hash(adminKey)),
            (new StoredKey(KeyMaterial.NewId("key_"), workspace.Id, "default write key", "write", [], KeyMaterial.DisplayPrefix(writeKey), false, now, null), KeyMaterial.Hash(writeKey)),
        };
        return await store.CreateWorkspaceAsync(workspace, keys, cancellationToken)
            ? new CreatedWorkspace(workspace.Id, workspace.Name, adminKey, writeKey)
            : null;
    }

    public async Task<CreatedApiKey> CreateKeyAsync(string workspaceId, string name, string kind, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        var secret = KeyMaterial.NewSecret(kind == "write" ? KeyMaterial.WriteKeyPrefix : KeyMaterial.ApiKeyPrefix);
        var key = new StoredKey(KeyMaterial.NewId("key_"), workspaceId, name, kind, kind == "write" ? [] : roles, KeyMaterial.DisplayPrefix(secret), false, clock.GetUtcNow(), null);
        await store.CreateKeyAsync(key, KeyMaterial.Hash(secret), cancellationToken);
        return new CreatedApiKey(key.ToView(), secret);
    }

    public async Task<bool> RevokeKeyAsync(string workspaceId, string keyId, CancellationToken cancellationToken)
    {
        var hash = await store.RevokeKeyAsync(workspaceId, keyId, clock.GetUtcNow(), cancellationToken);
        if (hash is null)
        {
            return false;
        }

        directory.Forget(hash);
        return true;
    }
}
