using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

public sealed class ErrorPathTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    [Fact]
    public async Task A_management_body_over_the_size_limit_gets_413_problem()
    {
        var body = "{\"name\":\"" + new string('x', 1_100_000) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/api-keys") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // As curl does for large bodies: without waiting for the verdict, the client may still be writing when the
        // server answers 413 and closes, and then it sees a broken pipe instead of the answer.
        request.Headers.ExpectContinue = true;
        using var response = await Host.Admin().SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_malformed_json_body_on_the_management_api_gets_400_problem()
    {
        using var response = await Host.Admin().PostAsync("/api/api-keys", new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_bad_timeline_cursor_gets_400()
    {
        await Host.SendOkAsync("/v1/identify", """{"userId":"cursor-user"}""");
        await Host.DrainAsync();
        var id = await Host.FindCustomerAsync("userId=cursor-user");
        using var response = await Host.Admin().GetAsync($"/api/customers/{id}/timeline?cursor=not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("{\"name\":\"Shop\",\"id\":\"Bad Id\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"id\":\"no-name\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"name\":\"Shop\",\"id\":\"shop-a\"}", HttpStatusCode.Conflict)]
    public async Task Invalid_or_duplicate_workspaces_are_refused(string body, HttpStatusCode status)
    {
        using var response = await Host.Admin().PostAsync("/api/workspaces", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_get_problems()
    {
        using var missing = await Host.Admin().GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        using var method = await Host.Client.GetAsync("/v1/track");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, method.StatusCode);
    }
}

public sealed class BackPressureTests
{
    [Fact]
    public async Task A_full_ingestion_queue_answers_429_with_retry_after_and_stores_nothing_of_that_request()
    {
        await using var host = TestHost.StartSqlite(settings: new Dictionary<string, string?> { ["Modulith:Ingestion:MaxPendingEvents"] = "5" });
        var messages = string.Join(',', Enumerable.Range(0, 10).Select(i => $$$"""{"type":"track","anonymousId":"bp","event":"Product Viewed","messageId":"bp-{{{i}}}"}"""));
        using var response = await host.SendAsync("/v1/batch", "{\"batch\":[" + messages + "]}");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("over capacity", problem.GetProperty("detail").GetString());

        await host.SendOkAsync("/v1/track", """{"anonymousId":"bp","event":"Product Viewed","messageId":"bp-ok"}""");
        await host.DrainAsync();
        var profile = await host.ProfileAsync((await host.FindCustomerAsync("anonymousId=bp"))!);
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("productViews").GetInt32());
    }
}

public sealed class SettingsAtStartTests
{
    [Theory]
    [InlineData("Modulith:Ingestion:DrainCoalesceWindow", "abc", "Modulith:Ingestion:DrainCoalesceWindow")]
    [InlineData("Modulith:Ingestion:ConcurrentDrains", "0", "Modulith:Ingestion:ConcurrentDrains must be at least 1")]
    public void A_bad_ingestion_setting_stops_the_host_at_start_naming_the_setting(string setting, string value, string expected)
    {
        var failure = Assert.ThrowsAny<Exception>(() => TestHost.StartSqlite(settings: new Dictionary<string, string?> { [setting] = value }));

        Assert.Contains(expected, failure.ToString(), StringComparison.Ordinal);
    }
}
