using Npgsql;

namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>The real PostgreSQL server that tests/run-tests.sh starts; each caller gets a fresh database.</summary>
public static class Postgres
{
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("MODULITH_TEST_POSTGRES")
        ?? throw new InvalidOperationException("MODULITH_TEST_POSTGRES is not set: run the tests with tests/run-tests.sh, which installs and starts PostgreSQL.");

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "modulith_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(ServerConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }
}
