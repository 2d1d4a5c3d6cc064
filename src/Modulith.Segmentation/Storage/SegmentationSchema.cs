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

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("segmentation", 1, "order history for customer value, order imports", Orders.Replace("DOUBLE PRECISION", "REAL", StringComparison.Ordinal), Orders),
    ];
}
