using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Durability;

public sealed class MigrateCommandTests
{
    [Fact]
    public async Task The_migrate_command_creates_the_schema_and_the_bootstrap_workspace_then_exits()
    {
        var dataDirectory = Scratch.NewDirectory("migrate");
        for (var run = 0; run < 2; run++)
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modulith.Host.dll"), "migrate"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            start.Environment["Modulith__DataDirectory"] = dataDirectory;
            start.Environment["Modulith__Bootstrap__Workspace"] = "migrated";
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, output + await process.StandardError.ReadToEndAsync());
            Assert.Contains(run == 0 ? "15 step(s) applied" : "0 step(s) applied", output);
        }

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT COUNT(*) FROM OrleansQuery), (SELECT id FROM workspaces), (SELECT COUNT(*) FROM sqlite_master WHERE name IN ('ix_leads_owner_stage', 'pending_events', 'ix_event_customers_customer'))";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.GetInt64(0) >= 11);
        Assert.Equal("migrated", reader.GetString(1));
        Assert.Equal(3, reader.GetInt64(2));
    }
}
