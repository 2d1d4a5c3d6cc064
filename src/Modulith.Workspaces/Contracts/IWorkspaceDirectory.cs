namespace Modulith.Workspaces.Contracts;

/// <summary>The Workspaces module's facade: resolves keys to workspaces for the other modules.</summary>
public interface IWorkspaceDirectory
{
    /// <summary>Finds the workspace a write key belongs to; null when the key is unknown or revoked.</summary>
    ValueTask<string?> AuthenticateWriteKeyAsync(string writeKey, CancellationToken cancellationToken = default);

    /// <summary>Finds the API key; null when the key is unknown or revoked.</summary>
    ValueTask<ApiKeyIdentity?> AuthenticateApiKeyAsync(string apiKey, CancellationToken cancellationToken = default);

    /// <summary>True when the workspace exists.</summary>
    ValueTask<bool> ExistsAsync(string workspaceId, CancellationToken cancellationToken = default);
}

/// <summary>Who an API key speaks for.</summary>
/// <param name="KeyId">The key's public id.</param>
/// <param name="WorkspaceId">The workspace the key belongs to.</param>
/// <param name="Roles">The roles the key carries.</param>
/// <param name="IsPlatformAdmin">True for the bootstrap administrator key.</param>
public sealed record ApiKeyIdentity(string KeyId, string WorkspaceId, IReadOnlyList<string> Roles, bool IsPlatformAdmin);
