using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace Modulith.SharedKernel.Storage;

/// <summary>Creates or upgrades the database schema: applies every contributed step not yet recorded.</summary>
public sealed class SchemaMigrator(Database database, IEnumerable<ISchemaContributor> contributors, TimeProvider clock, ILogger<SchemaMigrator> logger)
{
    private const long PostgresLockKey = 0x4d6f64756c697468; // "Modulith": serialises migrations of concurrently starting silos.

    /// <summary>Applies the missing steps; safe to call on every start and from several silos at once.</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.IsSqlite)
        {
            await using var wal = connection.Command("PRAGMA journal_mode=WAL;");
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            await using var take = connection.Command("SELECT pg_advisory_lock(@key)").With("key", PostgresLockKey);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using (var history = connection.Command(
                "CREATE TABLE IF NOT EXISTS modulith_schema_history (module TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))"))
            {
                await history.ExecuteNonQueryAsync(cancellationToken);
            }

            var applied = new HashSet<(string, int)>();
            await using (var read = connection.Command("SELECT module, version FROM modulith_schema_history"))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add((reader.GetString(0), reader.GetInt32(1)));
                }
            }

            var count = 0;
            foreach (var script in contributors.SelectMany(c => c.Scripts).OrderBy(s => s.Module == "orleans" ? 0 : 1).ThenBy(s => s.Module).ThenBy(s => s.Version))
            {
                if (applied.Contains((script.Module, script.Version)))
                {
                    continue;
                }

                await ApplyAsync(connection, script, cancellationToken);
                count++;
                logger.LogInformation("Applied schema step {Module} v{Version}: {Description}", script.Module, script.Version, script.Description);
            }

            return count;
        }
        finally
        {
            if (!database.IsSqlite)
            {
                await using var release = connection.Command("SELECT pg_advisory_unlock(@key)").With("key", PostgresLockKey);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
    }

    private async Task ApplyAsync(DbConnection connection, SchemaScript script, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var step = connection.Command(database.IsSqlite ? script.Sqlite : script.PostgreSql, transaction))
        {
            await step.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var record = connection.Command(
            "INSERT INTO modulith_schema_history (module, version, description, applied_at) VALUES (@m, @v, @d, @at)", transaction))
        {
            record.With("m", script.Module).With("v", script.Version).With("d", script.Description).With("at", clock.GetUtcNow().ToString("O"));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
