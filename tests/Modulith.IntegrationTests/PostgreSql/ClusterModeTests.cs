using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Modulith.Host.Orleans;
using Modulith.IntegrationTests.Infrastructure;
using Npgsql;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>Cluster mode against the real PostgreSQL server started by tests/run-tests.sh.</summary>
public sealed class ClusterModeTests
{
    private static Dictionary<string, string?> Keys(string admin, string write) => new()
    {
        ["Modulith:Bootstrap:AdminKey"] = admin,
        ["Modulith:Bootstrap:WriteKey"] = write,
    };

    [Fact]
    public async Task Events_become_one_profile_and_survive_a_restart_on_postgresql()
    {
        var database = await Postgres.CreateDatabaseAsync();
        var keys = Keys("mk_pg_admin_" + Guid.NewGuid().ToString("N"), "wk_pg_write_" + Guid.NewGuid().ToString("N"));
        string customerId;
        await using (var host = TestHost.StartPostgres(database, "pg-restart", keys))
        {
            await host.SendOkAsync("/v1/page", """{"anonymousId":"pg-anon","name":"Home"}""");
            await host.SendOkAsync("/v1/identify", """{"anonymousId":"pg-anon","userId":"pg-user","traits":{"email":"pg@example.com"}}""");
            await host.SendOkAsync("/v1/track", """{"userId":"pg-user","event":"Order Completed","properties":{"order_id":"1","revenue":10}}""");
            await host.DrainAsync();
            customerId = (await host.FindCustomerAsync("email=pg@example.com"))!;
            Assert.Equal(customerId, await host.FindCustomerAsync("anonymousId=pg-anon"));
        }

        await using (var restarted = TestHost.StartPostgres(database, "pg-restart", keys))
        {
            var profile = await restarted.ProfileAsync(customerId);
            Assert.Equal(3, profile.GetProperty("metrics").GetProperty("events").GetInt32());
            Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
            var timeline = await restarted.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{customerId}/timeline");
            Assert.Equal(3, timeline.GetProperty("items").GetArrayLength());
        }

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var stored = new NpgsqlCommand("SELECT payloadbinary FROM orleansstorage WHERE graintypestring = 'customer'", connection);
        // States of 1 KB or more are stored as zlib of the same JSON (docs/adr/0010); read back as the host reads them.
        var json = new JsonGrainStorageSerializer().Deserialize<JsonElement>(new BinaryData((byte[])(await stored.ExecuteScalarAsync())!)).GetRawText();
        Assert.StartsWith("{\"id\":\"cus_", json); // grain state is stored as JSON by property name, without CLR type names
        Assert.DoesNotContain("$type", json);
    }

    [Fact]
    public async Task A_stopped_silo_leaves_no_connection_open_on_the_server()
    {
        var database = await Postgres.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await using (var host = TestHost.StartPostgres(database, "pg-stop", Keys("mk_pg_admin_" + Guid.NewGuid().ToString("N"), "wk_pg_write_" + Guid.NewGuid().ToString("N"))))
        {
            await host.SendOkAsync("/v1/identify", """{"userId":"stop-1","traits":{"email":"stop-1@example.com"}}""");
            await host.DrainAsync();
            Assert.NotNull(await host.FindCustomerAsync("email=stop-1@example.com"));
            Assert.True(await OpenConnectionsAsync(name) > 0);
        }

        // The server ends a backend a moment after its client closed the socket.
        var open = await OpenConnectionsAsync(name);
        for (var attempt = 0; open > 0 && attempt < 50; attempt++)
        {
            await Task.Delay(100);
            open = await OpenConnectionsAsync(name);
        }

        Assert.Equal(0, open);
    }

    private static async Task<long> OpenConnectionsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(Postgres.ServerConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = @name", connection);
        count.Parameters.AddWithValue("name", database);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Two_silos_form_one_cluster_and_an_event_sent_to_one_is_visible_through_the_other()
    {
        var database = await Postgres.CreateDatabaseAsync();
        var keys = Keys("mk_pg_admin_" + Guid.NewGuid().ToString("N"), "wk_pg_write_" + Guid.NewGuid().ToString("N"));
        await using var first = TestHost.StartPostgres(database, "pg-two", keys);
        await using var second = TestHost.StartPostgres(database, "pg-two", keys);

        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var members = new NpgsqlCommand("SELECT COUNT(*) FROM orleansmembershiptable WHERE status = 3", connection);
            Assert.Equal(2L, (long)(await members.ExecuteScalarAsync())!);
        }

        for (var i = 0; i < 20; i++)
        {
            await first.SendOkAsync("/v1/identify", $$$"""{"userId":"two-{{{i}}}","traits":{"email":"two-{{{i}}}@example.com"}}""");
        }

        await first.DrainAsync();
        await second.DrainAsync();
        for (var i = 0; i < 20; i++)
        {
            var viaSecond = await second.FindCustomerAsync($"email=two-{i}@example.com");
            Assert.NotNull(viaSecond);
            Assert.Equal(await first.FindCustomerAsync($"userId=two-{i}"), viaSecond);
        }

        await second.SendOkAsync("/v1/track", """{"userId":"two-0","event":"Product Viewed"}""");
        await second.DrainAsync();
        await first.DrainAsync();
        var profile = await first.ProfileAsync((await first.FindCustomerAsync("userId=two-0"))!);
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("productViews").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await second.Client.GetAsync("/health/ready")).StatusCode);
    }
}
