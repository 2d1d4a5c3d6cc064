using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

/// <summary>A key of workspace B can neither read nor change anything of workspace A, through any route.</summary>
public sealed class WorkspaceIsolationTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private async Task<(string Id, string AdminKey, string WriteKey)> CreateWorkspaceAsync()
    {
        using var response = await Host.Admin().PostAsJsonAsync("/api/workspaces", new { name = "Shop B", id = "shop-b-" + Guid.NewGuid().ToString("N")[..8] });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetString()!, created.GetProperty("adminKey").GetString()!, created.GetProperty("writeKey").GetString()!);
    }

    [Fact]
    public async Task Workspace_b_cannot_see_or_change_workspace_a_through_any_route()
    {
        var userId = "iso-" + Guid.NewGuid().ToString("N")[..8];
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{userId}}}","anonymousId":"{{{userId}}}-anon","traits":{"email":"{{{userId}}}@example.com"}}""");
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{userId}}}","anonymousId":"{{{userId}}}-anon2"}""");
        await Host.DrainAsync();
        var customerA = (await Host.FindCustomerAsync("userId=" + userId))!;
        var keysOfA = await Host.Admin().GetFromJsonAsync<JsonElement>("/api/api-keys");
        var keyOfA = keysOfA[0].GetProperty("id").GetString();

        var b = await CreateWorkspaceAsync();
        using var clientB = Host.ApiClient(b.AdminKey);

        Assert.Equal(b.Id, (await clientB.GetFromJsonAsync<JsonElement>("/api/workspaces/current")).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.GetAsync($"/api/customers/{customerA}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.GetAsync($"/api/customers/{customerA}/timeline")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.PostAsJsonAsync($"/api/customers/{customerA}/unmerge", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.PostAsync($"/api/customers/{customerA}/erase", null)).StatusCode);
        Assert.Null(await Host.FindCustomerAsync("userId=" + userId, clientB));
        Assert.Null(await Host.FindCustomerAsync("email=" + userId + "@example.com", clientB));
        Assert.Null(await Host.FindCustomerAsync("anonymousId=" + userId + "-anon", clientB));
        Assert.Empty((await clientB.GetFromJsonAsync<JsonElement>($"/api/customers?q={userId}")).GetProperty("items").EnumerateArray());
        Assert.DoesNotContain((await clientB.GetFromJsonAsync<JsonElement>("/api/api-keys")).EnumerateArray(), k => k.GetProperty("id").GetString() == keyOfA);
        Assert.Equal(HttpStatusCode.NotFound, (await clientB.DeleteAsync($"/api/api-keys/{keyOfA}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await clientB.PostAsJsonAsync("/api/workspaces", new { name = "C" })).StatusCode);

        // B's write key writes into B only: the same userId is a different customer there.
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{userId}}}","traits":{"firstName":"FromB"}}""", writeKey: b.WriteKey);
        await Host.DrainAsync();
        var customerB = await Host.FindCustomerAsync("userId=" + userId, clientB);
        Assert.NotNull(customerB);
        Assert.NotEqual(customerA, customerB);
        Assert.False((await Host.ProfileAsync(customerA)).GetProperty("traits").TryGetProperty("firstName", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Admin().GetAsync($"/api/customers/{customerB}")).StatusCode);
    }

    [Fact]
    public async Task Roles_limit_what_a_key_may_do()
    {
        using var created = await Host.Admin().PostAsJsonAsync("/api/api-keys", new { name = "bi tool", kind = "api", roles = new[] { "viewer" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        using var viewer = Host.ApiClient(secret);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/customers")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/api-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/customers/cus_x/unmerge", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/customers/cus_x/erase", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/workspaces", new { name = "C" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/ingestion/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync("/api/ingestion/parked-events")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync("/api/ingestion/parked-events/retry", null)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_and_a_new_write_key_ingests()
    {
        using var created = await Host.Admin().PostAsJsonAsync("/api/api-keys", new { name = "temp", kind = "api", roles = new[] { "sales" } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var temp = Host.ApiClient(body.GetProperty("secret").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await temp.GetAsync("/api/workspaces/current")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Admin().DeleteAsync($"/api/api-keys/{body.GetProperty("key").GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await temp.GetAsync("/api/workspaces/current")).StatusCode);

        using var write = await Host.Admin().PostAsJsonAsync("/api/api-keys", new { name = "site", kind = "write" });
        var writeKey = (await write.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        Assert.StartsWith("wk_", writeKey);
        await Host.SendOkAsync("/v1/track", """{"anonymousId":"a","event":"x"}""", writeKey);
    }

    [Theory]
    [InlineData("{\"name\":\"k\",\"kind\":\"api\",\"roles\":[\"owner\"]}", "Unknown role")]
    [InlineData("{\"name\":\"k\",\"kind\":\"api\"}", "at least one role")]
    [InlineData("{\"name\":\"k\",\"kind\":\"root\"}", "'kind' must be")]
    [InlineData("{\"kind\":\"api\"}", "'name' is required")]
    public async Task Invalid_key_requests_get_400(string body, string message)
    {
        using var response = await Host.Admin().PostAsync("/api/api-keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/customers")]
    [InlineData("/api/workspaces/current")]
    [InlineData("/api/api-keys")]
    [InlineData("/api/ingestion/status")]
    [InlineData("/api/ingestion/parked-events")]
    public async Task Management_routes_need_an_api_key(string url)
    {
        using var response = await Host.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var wrong = Host.ApiClient("mk_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(url)).StatusCode);
    }
}
