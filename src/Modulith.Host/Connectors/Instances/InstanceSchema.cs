using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Connectors.Instances;

internal sealed class ConnectorInstanceSchema : ISchemaContributor
{
    private const string Tables = """
        CREATE TABLE connector_instances (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            connector_id TEXT NOT NULL,
            name TEXT NOT NULL,
            settings TEXT NOT NULL,
            secrets TEXT NULL,
            secret_names TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ix_connector_instances_workspace ON connector_instances(workspace_id);
        CREATE TABLE data_protection_keys (
            name TEXT PRIMARY KEY,
            xml TEXT NOT NULL
        );
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("connectors", 1, "connector instances and the Data Protection key ring", Tables, Tables),
        new("connectors", 2, "reconciliation cursor per connector instance",
            "ALTER TABLE connector_instances ADD COLUMN reconcile_cursor TEXT NULL;",
            "ALTER TABLE connector_instances ADD COLUMN reconcile_cursor text NULL;"),
        new("connectors", 3, "which customer placed each platform order, to attribute refunds", Orders, Orders),
    ];

    private const string Orders = """
        CREATE TABLE platform_orders (
            instance_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            platform_customer_id TEXT NULL,
            email TEXT NULL,
            phone TEXT NULL,
            PRIMARY KEY (instance_id, order_id)
        );
        """;
}

/// <summary>Keeps the Data Protection key ring in the platform database, so every silo decrypts what another encrypted.</summary>
internal sealed class DatabaseXmlRepository(Database database) : IXmlRepository
{
    // IXmlRepository is synchronous by contract; it is called rarely (key ring refresh, key creation).
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = database.OpenAsync().AsTask().GetAwaiter().GetResult();
        using var command = connection.Command("SELECT xml FROM data_protection_keys");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.OpenAsync().AsTask().GetAwaiter().GetResult();
        using var command = connection.Command("INSERT INTO data_protection_keys (name, xml) VALUES (@name, @xml) ON CONFLICT (name) DO NOTHING")
            .With("name", friendlyName).With("xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }
}
