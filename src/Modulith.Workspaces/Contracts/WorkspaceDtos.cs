namespace Modulith.Workspaces.Contracts;

/// <summary>Body of <c>POST /api/workspaces</c>.</summary>
/// <param name="Name">A display name for the shop or brand.</param>
/// <param name="Id">Optional id (lower-case letters, digits, '-' and '_', 1-64 characters); generated when absent.</param>
public sealed record CreateWorkspaceRequest(string? Name, string? Id);

/// <summary>A new workspace with its first keys. The keys are shown only once.</summary>
/// <param name="Id">The workspace id.</param>
/// <param name="Name">The display name.</param>
/// <param name="AdminKey">The first admin API key (bearer).</param>
/// <param name="WriteKey">The first write key (ingestion).</param>
public sealed record CreatedWorkspace(string Id, string Name, string AdminKey, string WriteKey);

/// <summary>The caller's workspace.</summary>
/// <param name="Id">The workspace id.</param>
/// <param name="Name">The display name.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Roles">The roles of the calling key.</param>
public sealed record WorkspaceView(string Id, string Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Roles);

/// <summary>Body of <c>POST /api/api-keys</c>.</summary>
/// <param name="Name">What the key is for.</param>
/// <param name="Kind"><c>api</c> (management API, bearer) or <c>write</c> (ingestion).</param>
/// <param name="Roles">Roles of an API key: admin, marketing, sales, service, viewer.</param>
public sealed record CreateApiKeyRequest(string? Name, string? Kind, IReadOnlyList<string>? Roles);

/// <summary>A key as listed: never the secret.</summary>
/// <param name="Id">The key id (use it to revoke).</param>
/// <param name="Name">What the key is for.</param>
/// <param name="Kind"><c>api</c> or <c>write</c>.</param>
/// <param name="Roles">The roles of an API key.</param>
/// <param name="Prefix">The first characters of the key, to recognise it.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked, if it was.</param>
public sealed record ApiKeyView(string Id, string Name, string Kind, IReadOnlyList<string> Roles, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A newly created key: the secret is shown this once.</summary>
/// <param name="Key">The key as listed.</param>
/// <param name="Secret">The key itself.</param>
public sealed record CreatedApiKey(ApiKeyView Key, string Secret);
