namespace Modulith.SharedKernel.Storage;

/// <summary>One versioned step of a module's schema, with the SQL for each provider.</summary>
/// <param name="Module">The owning module (the migration history is kept per module).</param>
/// <param name="Version">Ascending version within the module; never reuse or renumber.</param>
/// <param name="Description">What the step does.</param>
/// <param name="Sqlite">The SQL for SQLite.</param>
/// <param name="PostgreSql">The SQL for PostgreSQL.</param>
public sealed record SchemaScript(string Module, int Version, string Description, string Sqlite, string PostgreSql);

/// <summary>A module that owns tables contributes its schema steps through this interface.</summary>
public interface ISchemaContributor
{
    /// <summary>The module's schema steps, in ascending version order.</summary>
    IEnumerable<SchemaScript> Scripts { get; }
}
