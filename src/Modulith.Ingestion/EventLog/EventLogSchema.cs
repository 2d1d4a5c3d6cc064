using Modulith.SharedKernel.Storage;

namespace Modulith.Ingestion.EventLog;

internal sealed class EventLogSchema : ISchemaContributor
{
    private const string Sqlite = """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            workspace_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            partition INTEGER NOT NULL,
            type TEXT NOT NULL,
            name TEXT NULL,
            user_id TEXT NULL,
            anonymous_id TEXT NULL,
            previous_id TEXT NULL,
            ts INTEGER NOT NULL,
            received INTEGER NOT NULL,
            payload TEXT NOT NULL,
            customer_id TEXT NULL,
            dispatched INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX ux_events_message ON events(workspace_id, message_id);
        CREATE INDEX ix_events_pending ON events(partition, seq) WHERE dispatched = 0;
        CREATE INDEX ix_events_customer ON events(workspace_id, customer_id, ts, seq);
        """;

    private const string PostgreSql = """
        CREATE TABLE events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            workspace_id text NOT NULL,
            message_id text NOT NULL,
            partition integer NOT NULL,
            type text NOT NULL,
            name text NULL,
            user_id text NULL,
            anonymous_id text NULL,
            previous_id text NULL,
            ts bigint NOT NULL,
            received bigint NOT NULL,
            payload text NOT NULL,
            customer_id text NULL,
            dispatched smallint NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX ux_events_message ON events(workspace_id, message_id);
        CREATE INDEX ix_events_pending ON events(partition, seq) WHERE dispatched = 0;
        CREATE INDEX ix_events_customer ON events(workspace_id, customer_id, ts, seq);
        """;

    // dispatched = 2: parked after failing on its own; parked_events says why (Dispatch/ParkedEventStore).
    private const string ParkedSqlite = """
        CREATE TABLE parked_events (
            seq INTEGER PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            partition INTEGER NOT NULL,
            parked_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            error TEXT NOT NULL
        );
        CREATE INDEX ix_parked_events_workspace ON parked_events(workspace_id, seq);
        """;

    private const string ParkedPostgreSql = """
        CREATE TABLE parked_events (
            seq bigint PRIMARY KEY,
            workspace_id text NOT NULL,
            partition integer NOT NULL,
            parked_at bigint NOT NULL,
            attempts integer NOT NULL,
            error text NOT NULL
        );
        CREATE INDEX ix_parked_events_workspace ON parked_events(workspace_id, seq);
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("ingestion", 1, "the durable event log", Sqlite, PostgreSql),
        new("ingestion", 2, "events parked after failing to dispatch", ParkedSqlite, ParkedPostgreSql),
    ];
}
