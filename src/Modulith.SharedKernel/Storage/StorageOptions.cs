namespace Modulith.SharedKernel.Storage;

/// <summary>Which database holds the platform's data.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file in the data directory (single silo).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (cluster mode, any number of silos).</summary>
    PostgreSql,
}

/// <summary>Storage configuration, bound from <c>Modulith:Storage</c> and <c>Modulith:DataDirectory</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Storage";

    /// <summary>The storage provider; SQLite by default.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The ADO.NET connection string. In SQLite mode it defaults to a file in the data directory.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where the embedded database file lives.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// Embedded mode: the size of the write-ahead log, in megabytes, from which the background checkpointer has it
    /// started again from the beginning (docs/adr/0009). The log file stays about this size under a steady load.
    /// </summary>
    public int WalRestartMegabytes { get; set; } = 64;

    /// <summary>The connection string in effect after defaults are applied.</summary>
    public string EffectiveConnectionString => Provider switch
    {
        StorageProvider.Sqlite when string.IsNullOrWhiteSpace(ConnectionString) =>
            $"Data Source={Path.GetFullPath(Path.Combine(DataDirectory, "modulith.db"))};Pooling=True",
        StorageProvider.PostgreSql when string.IsNullOrWhiteSpace(ConnectionString) =>
            throw new InvalidOperationException("Modulith:Storage:ConnectionString is required when the provider is PostgreSql."),
        _ => ConnectionString!,
    };

    /// <summary>The ADO.NET invariant name Orleans uses for this provider.</summary>
    public string OrleansInvariant => Provider == StorageProvider.Sqlite ? "System.Data.SQLite" : "Npgsql";
}
