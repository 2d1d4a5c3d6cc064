using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Modulith.SharedKernel.Storage;

/// <summary>Opens connections to the platform database, whichever provider is configured.</summary>
public sealed class Database : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);
    private int _priorityWrites;
    private TaskCompletionSource _priorityWriteFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _writersHeld;

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

        return await OpenPreparedAsync(new SqliteConnection(ConnectionString), cancellationToken);
    }

    /// <summary>
    /// Opens a connection for a write transaction. On SQLite, which has one writer at a time, the writers that use this
    /// queue here, asynchronously and in order, until the connection is disposed: none blocks a thread in SQLite's busy
    /// handler, which sleeps in growing steps and so holds threads and oversleeps under load. On PostgreSQL this is
    /// <see cref="OpenAsync"/>.
    /// </summary>
    /// <remarks>
    /// A writer whose turn comes while <see cref="OpenForPriorityWriteAsync">priority writes</see> are under way waits
    /// until one of them finished before it starts (docs/adr/0007).
    /// </remarks>
    public async ValueTask<DbConnection> OpenForWriteAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        await WaitForWriteTurnAsync(cancellationToken);
        return await OpenPreparedAsync(new ReleasingSqliteConnection(ConnectionString, () => _sqliteWriter.Release()), cancellationToken);
    }

    /// <summary>
    /// Holds every writer of the embedded database off, asynchronously, for work on a connection of its own that no writer
    /// may run beside (the checkpointer's restart of the write-ahead log): it takes a turn as <see cref="OpenForWriteAsync"/>
    /// does, and priority writes that start meanwhile wait for it to end. The writers then wait here instead of sleeping in
    /// SQLite's busy handler, which oversleeps by up to tens of milliseconds, and start the moment it is disposed. On
    /// PostgreSQL nothing is held.
    /// </summary>
    public async ValueTask<IDisposable> HoldWritersAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return new WritersHeld(() => { });
        }

        await WaitForWriteTurnAsync(cancellationToken);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _writersHeld, held);
        return new WritersHeld(() =>
        {
            Volatile.Write(ref _writersHeld, null);
            held.TrySetResult();
            _sqliteWriter.Release();
        });
    }

    private async ValueTask WaitForWriteTurnAsync(CancellationToken cancellationToken)
    {
        await _sqliteWriter.WaitAsync(cancellationToken);
        try
        {
            // Only the priority writes under way now go first, so a steady stream of them cannot starve the others. The
            // signal is taken before the count is read, so a write that finishes in between is not missed.
            var finished = Volatile.Read(ref _priorityWriteFinished).Task;
            if (Volatile.Read(ref _priorityWrites) > 0)
            {
                await finished.WaitAsync(cancellationToken);
            }
        }
        catch
        {
            _sqliteWriter.Release();
            throw;
        }
    }

    private sealed class WritersHeld(Action release) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                release();
            }
        }
    }

    /// <summary>
    /// Opens a connection for a write that a client is waiting on (ingestion's commit). It takes no turn: it waits in
    /// SQLite's busy handler only for the writer that holds the lock, and writers whose turn comes meanwhile let it go
    /// first. Queued with the others instead, ingestion accepted half as many events. On PostgreSQL this is
    /// <see cref="OpenAsync"/>.
    /// </summary>
    public async ValueTask<DbConnection> OpenForPriorityWriteAsync(CancellationToken cancellationToken = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        if (Volatile.Read(ref _writersHeld) is { } held)
        {
            await held.Task.WaitAsync(cancellationToken);
        }

        Interlocked.Increment(ref _priorityWrites);
        return await OpenPreparedAsync(new ReleasingSqliteConnection(ConnectionString, () =>
        {
            Interlocked.Decrement(ref _priorityWrites);
            Interlocked.Exchange(ref _priorityWriteFinished, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }), cancellationToken);
    }

    // The settings below belong to the SQLite handle, which the pool keeps across opens: each handle is set up once.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, SQLitePCL.sqlite3> PreparedHandles = [];

    private static async Task<DbConnection> OpenPreparedAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (connection.Handle is { } handle && !PreparedHandles.TryGetValue(handle, out _))
            {
                using var pragma = connection.CreateCommand();
                // WAL is persistent in the file; the rest is per connection. No connection checkpoints after its own
                // commits: the host's checkpointer does it in the background (docs/adr/0009).
                pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
                PreparedHandles.TryAdd(handle, handle);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Also closes the idle connections pooled for this connection string outside the data source: Orleans' ADO.NET
    /// providers and SQLite connections are pooled by connection string for the whole process, so a host stopped in a
    /// process that goes on (tests, embedding) would otherwise keep them open, on PostgreSQL until the server has no
    /// connection left to give.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
            using var pooled = new NpgsqlConnection(ConnectionString);
            NpgsqlConnection.ClearPool(pooled);
        }
        else
        {
            using var pooled = new SqliteConnection(ConnectionString);
            SqliteConnection.ClearPool(pooled);
        }
    }
}

/// <summary>A SQLite connection that gives up its place among the writers when it is disposed.</summary>
internal sealed class ReleasingSqliteConnection(string connectionString, Action release) : SqliteConnection(connectionString)
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
                release();
            }
        }
    }
}
