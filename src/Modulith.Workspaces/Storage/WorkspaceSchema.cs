using Modulith.SharedKernel.Storage;

namespace Modulith.Workspaces.Storage;

internal sealed class WorkspaceSchema : ISchemaContributor
{
    private const string Tables = """
        CREATE TABLE workspaces (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            roles TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            platform_admin INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL
        );
        CREATE INDEX ix_api_keys_workspace ON api_keys(workspace_id);
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("workspaces", 1, "workspaces and hashed API keys", Tables, Tables),
    ];
}
