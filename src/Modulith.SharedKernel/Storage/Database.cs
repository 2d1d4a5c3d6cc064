using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Modulith.SharedKernel.Storage;

/// <summary>Opens connections to the platform database, whichever provider is configured.</summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;

    /// <summary>Creates the database access for the given options.</summary>
    public Database(StorageOptions options)
    {
        Provider = options.Provider;
        ConnectionString = options.EffectiveConnectionString;
        if (Provider == StorageProvider.Sqlite)
        {
            var builder = new SqliteConnectionStringBuilder(ConnectionString);
            var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }
        }
        else
        {
            _postgres = NpgsqlDataSource.Create(ConnectionString);
        }
    }

    /// <summary>The configured provider.</summary>
    public StorageProvider Provider { get; }

    /// <summary>The effective connection string (never logged: it may hold a password).</summary>
    public string ConnectionString { get; }

    /// <summary>True when running on the embedded SQLite file.</summary>
    public bool IsSqlite => Provider == StorageProvider.Sqlite;

    /// <summary>Opens a new pooled connection.</summary>
    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragma = connection.CreateCommand();
        // WAL is persistent in the file; synchronous and busy_timeout are per connection.
        pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
