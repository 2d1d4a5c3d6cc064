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

    // Parked after failing on its own: parked_events says why (Dispatch/ParkedEventStore). Until version 3 such a row also had dispatched = 2.
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

    // The log's rows stay as written once appended: what waits for dispatch and which customer an event went to live in
    // narrow tables of their own (docs/adr/0016-the-event-log-rows-stay-as-written.md). Rewriting a whole row to mark
    // it dispatched cost PostgreSQL a second copy of every event and SQLite a page of its write-ahead log per event.
    // Every row inserted into events is queued by the database itself, in the inserting statement: on PostgreSQL once per
    // statement (a COPY's or an insert's new rows), so the append keeps its round trips.
    private const string NarrowSqlite = """
        CREATE TABLE pending_events (
            partition INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (partition, seq)
        ) WITHOUT ROWID;
        INSERT INTO pending_events (partition, seq) SELECT partition, seq FROM events WHERE dispatched = 0;
        CREATE TABLE event_customers (
            seq INTEGER PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            ts INTEGER NOT NULL
        );
        INSERT INTO event_customers (seq, workspace_id, customer_id, ts)
            SELECT seq, workspace_id, customer_id, ts FROM events WHERE customer_id IS NOT NULL AND dispatched = 1;
        CREATE INDEX ix_event_customers_customer ON event_customers(workspace_id, customer_id, ts, seq);
        DROP INDEX ix_events_pending;
        DROP INDEX ix_events_customer;
        ALTER TABLE events DROP COLUMN customer_id;
        ALTER TABLE events DROP COLUMN dispatched;
        CREATE TRIGGER events_queue_for_dispatch AFTER INSERT ON events
        BEGIN
            INSERT INTO pending_events (partition, seq) VALUES (NEW.partition, NEW.seq);
        END;
        """;

    private const string NarrowPostgreSql = """
        CREATE TABLE pending_events (
            partition integer NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (partition, seq)
        );
        INSERT INTO pending_events (partition, seq) SELECT partition, seq FROM events WHERE dispatched = 0;
        CREATE TABLE event_customers (
            seq bigint PRIMARY KEY,
            workspace_id text NOT NULL,
            customer_id text NOT NULL,
            ts bigint NOT NULL
        );
        INSERT INTO event_customers (seq, workspace_id, customer_id, ts)
            SELECT seq, workspace_id, customer_id, ts FROM events WHERE customer_id IS NOT NULL AND dispatched = 1;
        CREATE INDEX ix_event_customers_customer ON event_customers(workspace_id, customer_id, ts, seq);
        DROP INDEX ix_events_pending;
        DROP INDEX ix_events_customer;
        ALTER TABLE events DROP COLUMN customer_id;
        ALTER TABLE events DROP COLUMN dispatched;
        CREATE FUNCTION queue_events_for_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO pending_events (partition, seq) SELECT partition, seq FROM appended;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER events_queue_for_dispatch AFTER INSERT ON events REFERENCING NEW TABLE AS appended
            FOR EACH STATEMENT EXECUTE FUNCTION queue_events_for_dispatch();
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("ingestion", 1, "the durable event log", Sqlite, PostgreSql),
        new("ingestion", 2, "events parked after failing to dispatch", ParkedSqlite, ParkedPostgreSql),
        new("ingestion", 3, "pending events and attributions in narrow tables; log rows stay as written", NarrowSqlite, NarrowPostgreSql),
    ];
}
