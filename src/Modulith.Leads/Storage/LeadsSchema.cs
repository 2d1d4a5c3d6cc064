using Modulith.SharedKernel.Storage;

namespace Modulith.Leads.Storage;

internal sealed class LeadsSchema : ISchemaContributor
{
    private const string Common = """
        CREATE TABLE lead_scoring_models (
            workspace_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            model TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NULL,
            PRIMARY KEY (workspace_id, version)
        );
        CREATE TABLE leads (
            workspace_id TEXT NOT NULL,
            lead_id TEXT NOT NULL,
            stage TEXT NOT NULL,
            owner_id TEXT NULL,
            score DOUBLE PRECISION NOT NULL,
            model_version INTEGER NOT NULL,
            channel TEXT NULL,
            source TEXT NULL,
            campaign TEXT NULL,
            created_at BIGINT NOT NULL,
            mql_at BIGINT NULL,
            sql_at BIGINT NULL,
            accepted_at BIGINT NULL,
            rejected_at BIGINT NULL,
            rejection_reason TEXT NULL,
            customer_at BIGINT NULL,
            recycled_at BIGINT NULL,
            sla_policy TEXT NULL,
            sla_started_at BIGINT NULL,
            sla_due_at BIGINT NULL,
            first_contact_at BIGINT NULL,
            breached INTEGER NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, lead_id)
        );
        CREATE INDEX ix_leads_stage ON leads(workspace_id, stage, lead_id);
        CREATE INDEX ix_leads_owner ON leads(workspace_id, owner_id, lead_id);
        CREATE TABLE sales_reps (
            workspace_id TEXT NOT NULL,
            rep_id TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (workspace_id, rep_id)
        );
        CREATE TABLE lead_assignments (
            workspace_id TEXT NOT NULL,
            lead_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            rep_id TEXT NOT NULL,
            team TEXT NULL,
            strategy TEXT NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (workspace_id, lead_id, at, rep_id)
        );
        CREATE TABLE sla_policies (
            workspace_id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE lead_timers (
            workspace_id TEXT NOT NULL,
            lead_id TEXT NOT NULL,
            due_at BIGINT NOT NULL,
            PRIMARY KEY (workspace_id, lead_id)
        );
        CREATE INDEX ix_lead_timers_due ON lead_timers(due_at);
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("leads", 1, "scoring models, the lead projection, sales reps, assignments, SLA policies and timers", Common.Replace("DOUBLE PRECISION", "REAL", StringComparison.Ordinal), Common),
        // Every assignment counts each rep's open leads; with the stage in the index the count reads the index alone.
        new("leads", 2, "each rep's open leads counted from an index", OpenLeadsByRep, OpenLeadsByRep),
    ];

    private const string OpenLeadsByRep = "CREATE INDEX ix_leads_owner_stage ON leads(workspace_id, owner_id, stage);";
}
