using Modulith.SharedKernel.Storage;

namespace Modulith.Segmentation.Storage;

internal sealed class SegmentationSchema : ISchemaContributor
{
    private const string Orders = """
        CREATE TABLE customer_orders (
            workspace_id TEXT NOT NULL,
            order_key TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            placed_at BIGINT NOT NULL,
            revenue DOUBLE PRECISION NOT NULL,
            margin DOUBLE PRECISION NULL,
            currency TEXT NULL,
            import_id TEXT NULL,
            PRIMARY KEY (workspace_id, order_key)
        );
        CREATE INDEX ix_customer_orders_customer ON customer_orders(workspace_id, customer_id, placed_at);
        CREATE INDEX ix_customer_orders_import ON customer_orders(workspace_id, import_id);
        CREATE TABLE order_imports (
            workspace_id TEXT NOT NULL,
            import_id TEXT NOT NULL,
            status TEXT NOT NULL,
            format TEXT NOT NULL,
            total INTEGER NOT NULL,
            chunks INTEGER NOT NULL,
            next_chunk INTEGER NOT NULL,
            ingested INTEGER NOT NULL,
            error TEXT NULL,
            created_by TEXT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            lease_until BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, import_id)
        );
        CREATE INDEX ix_order_imports_status ON order_imports(status, lease_until);
        CREATE TABLE order_import_chunks (
            workspace_id TEXT NOT NULL,
            import_id TEXT NOT NULL,
            chunk INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (workspace_id, import_id, chunk)
        );
        """;

    private const string Segments = """
        CREATE TABLE segments (
            workspace_id TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NULL,
            rule TEXT NOT NULL,
            version INTEGER NOT NULL,
            member_count BIGINT NOT NULL DEFAULT 0,
            backfill_status TEXT NOT NULL,
            backfill_total BIGINT NOT NULL DEFAULT 0,
            backfill_done BIGINT NOT NULL DEFAULT 0,
            backfill_cursor TEXT NULL,
            backfill_lease BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            created_by TEXT NULL,
            PRIMARY KEY (workspace_id, segment_id)
        );
        CREATE INDEX ix_segments_backfill ON segments(backfill_status, backfill_lease);
        CREATE TABLE segment_members (
            workspace_id TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            entered_at BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, segment_id, customer_id)
        );
        CREATE TABLE segment_facts (
            workspace_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            facts TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, customer_id)
        );
        CREATE INDEX ix_segment_facts_updated ON segment_facts(workspace_id, updated_at);
        CREATE TABLE segment_timers (
            workspace_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            due_at BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, customer_id)
        );
        CREATE INDEX ix_segment_timers_due ON segment_timers(due_at);
        CREATE TABLE segmentation_settings (
            workspace_id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE customer_scores (
            workspace_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (workspace_id, customer_id)
        );
        CREATE TABLE rfm_runs (
            workspace_id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            computed_at BIGINT NOT NULL
        );
        """;

    private const string Changes = """
        CREATE TABLE segment_changes (
            seq {identity},
            workspace_id TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at BIGINT NOT NULL,
            relayed INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_segment_changes_pending ON segment_changes(seq) WHERE relayed = 0;
        CREATE INDEX ix_segment_changes_segment ON segment_changes(workspace_id, segment_id, seq);
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("segmentation", 1, "order history for customer value, order imports", Orders.Replace("DOUBLE PRECISION", "REAL", StringComparison.Ordinal), Orders),
        new("segmentation", 2, "segments, members, membership changes, facts for previews, timers, lifecycle settings, RFM and value scores", Segments + Changes.Replace("{identity}", "INTEGER PRIMARY KEY AUTOINCREMENT", StringComparison.Ordinal),
            Segments + Changes.Replace("{identity}", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", StringComparison.Ordinal)),
    ];
}
