using Modulith.SharedKernel.Storage;

namespace Modulith.Attribution.Storage;

internal sealed class AttributionSchema : ISchemaContributor
{
    private const string Tables = """
        CREATE TABLE attribution_touches (
            workspace_id TEXT NOT NULL,
            touch_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            channel TEXT NOT NULL,
            source TEXT NULL,
            medium TEXT NULL,
            campaign TEXT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (workspace_id, touch_id)
        );
        CREATE INDEX ix_attribution_touches_customer ON attribution_touches(workspace_id, customer_id, at);
        CREATE INDEX ix_attribution_touches_at ON attribution_touches(workspace_id, at);
        CREATE TABLE attribution_conversions (
            workspace_id TEXT NOT NULL,
            conversion_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at BIGINT NOT NULL,
            revenue DOUBLE PRECISION NOT NULL,
            margin DOUBLE PRECISION NULL,
            PRIMARY KEY (workspace_id, conversion_id)
        );
        CREATE INDEX ix_attribution_conversions_at ON attribution_conversions(workspace_id, kind, at);
        CREATE INDEX ix_attribution_conversions_customer ON attribution_conversions(workspace_id, customer_id, kind, at);
        CREATE TABLE ad_spend (
            workspace_id TEXT NOT NULL,
            day TEXT NOT NULL,
            channel TEXT NOT NULL,
            campaign TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (workspace_id, day, channel, campaign)
        );
        CREATE TABLE attribution_settings (
            workspace_id TEXT PRIMARY KEY,
            body TEXT NOT NULL
        );
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("attribution", 1, "touches, conversions, ad spend and attribution settings", Tables.Replace("DOUBLE PRECISION", "REAL", StringComparison.Ordinal), Tables),
    ];
}
