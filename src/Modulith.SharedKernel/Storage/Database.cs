using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Modulith.SharedKernel.Storage;

/// <summary>Opens connections to the platform database, whichever provider is configured.</summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

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

    /// <summary>
    /// Opens a connection for a write transaction. On SQLite, which has one writer at a time, the writers that use this
    /// queue here, asynchronously and in order, until the connection is disposed: none blocks a thread in SQLite's busy
    /// handler, which sleeps in growing steps and so holds threads and oversleeps under load. On PostgreSQL this is
    /// <see cref="OpenAsync"/>.
    /// </summary>
    /// <remarks>
    /// Ingestion's commit does not take a turn: it waits in SQLite's busy handler for the one writer at a time that holds
    /// the lock. Queued behind every dispatch writer instead, it accepted half as many events (docs/adr/0007).
    /// </remarks>
    public async ValueTask<DbConnection> OpenForWriteAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        await _sqliteWriter.WaitAsync(cancellationToken);
        try
        {
            var connection = new GatedSqliteConnection(ConnectionString, _sqliteWriter);
            await connection.OpenAsync(cancellationToken);
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            _sqliteWriter.Release();
            throw;
        }
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

/// <summary>A SQLite connection that holds the process's write turn until it is disposed.</summary>
internal sealed class GatedSqliteConnection(string connectionString, SemaphoreSlim writer) : SqliteConnection(connectionString)
{
    private int _released;

    protected override void Dispose(bool disposing)
    {
        try
        {
            base.Dispose(disposing);
        }
        finally
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                writer.Release();
            }
        }
    }
}
