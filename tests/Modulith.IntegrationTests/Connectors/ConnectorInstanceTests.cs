using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Host.Connectors.Instances;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

public sealed class ConnectorInstanceTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>
{
    private TestHost Host => fixture.Host;

    [Fact]
    public async Task An_instance_keeps_its_secret_encrypted_at_rest_and_never_returns_it()
    {
        const string secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr";
        using var response = await Host.Admin().PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "webhook",
            name = "CRM hook",
            settings = new Dictionary<string, string> { ["url"] = "https://crm.example/hooks/modulith", ["secret"] = secret },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, text);
        var created = JsonDocument.Parse(text).RootElement;
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("https://crm.example/hooks/modulith", created.GetProperty("settings").GetProperty("url").GetString());
        Assert.Equal("secret", created.GetProperty("secretsSet")[0].GetString());

        var listed = await Host.Admin().GetStringAsync("/api/connector-instances");
        Assert.Contains(id, listed);
        Assert.DoesNotContain(secret, listed);

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(Host.DataDirectory, "modulith.db")};Mode=ReadOnly"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT settings || COALESCE(secrets, '') FROM connector_instances WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            var stored = (string)(await command.ExecuteScalarAsync())!;
            Assert.DoesNotContain(secret, stored);
            Assert.DoesNotContain("c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr", stored);
        }

        var resolved = await Host.Services.GetRequiredService<ConnectorInstanceStore>().ResolveAsync(id, CancellationToken.None);
        Assert.NotNull(resolved);
        Assert.Equal(secret, resolved.Value.Settings.Values["secret"]);
        Assert.Equal("shop-a", resolved.Value.Settings.WorkspaceId);
    }

    [Theory]
    [InlineData("webhook", "{\"url\":\"https://x.example\"}", "'secret' is required")]
    [InlineData("webhook", "{\"url\":\"ftp://x.example\",\"secret\":\"whsec_AA==\"}", "absolute http or https URL")]
    [InlineData("webhook", "{\"url\":\"https://x.example\",\"secret\":\"whsec_AA==\",\"colour\":\"red\"}", "Unknown setting(s)")]
    [InlineData("nope", "{}", "There is no connector 'nope'")]
    [InlineData("test-throwing", "{}", "is faulted")]
    public async Task Settings_that_do_not_fit_the_connector_schema_get_400(string connector, string settings, string message)
    {
        var body = $$$"""{"connectorId":"{{{connector}}}","name":"x","settings":{{{settings}}}}""";
        using var response = await Host.Admin().PostAsync("/api/connector-instances", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Instances_are_workspace_scoped_and_only_admins_create_them()
    {
        using var created = await Host.Admin().PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "webhook",
            name = "scoped",
            settings = new Dictionary<string, string> { ["url"] = "https://a.example/", ["secret"] = "whsec_AA==" },
        });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var (_, other, _) = await Host.CreateWorkspaceAsync("Other shop");
        Assert.DoesNotContain(id, await other.GetStringAsync("/api/connector-instances"));

        using var key = await Host.Admin().PostAsJsonAsync("/api/api-keys", new { name = "viewer", kind = "api", roles = new[] { "viewer" } });
        using var viewer = Host.ApiClient((await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!);
        using var refused = await viewer.PostAsJsonAsync("/api/connector-instances", new { connectorId = "webhook", name = "v", settings = new Dictionary<string, string>() });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
