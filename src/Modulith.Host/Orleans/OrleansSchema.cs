using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Orleans;

/// <summary>Orleans' ADO.NET tables and queries, which the Orleans packages do not ship (see the .sql files beside this).</summary>
internal sealed class OrleansSchema : ISchemaContributor
{
    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("orleans", 1, "Orleans clustering, grain storage and reminders", Read("OrleansSchema.Sqlite.sql"), Read("OrleansSchema.PostgreSql.sql")),
    ];

    private static string Read(string name)
    {
        using var stream = typeof(OrleansSchema).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded schema script {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
