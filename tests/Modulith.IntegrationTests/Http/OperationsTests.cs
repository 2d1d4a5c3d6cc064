using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

public sealed class OperationsTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    [Fact]
    public async Task Health_endpoints_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Swagger_documents_every_route_with_its_auth_scheme()
    {
        var document = await Host.Client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");
        foreach (var route in (string[])["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch",
                     "/v1/t", "/v1/i", "/v1/p", "/v1/s", "/v1/g", "/v1/a", "/v1/b",
                     "/api/workspaces", "/api/workspaces/current", "/api/api-keys", "/api/api-keys/{id}",
                     "/api/customers", "/api/customers/{id}", "/api/customers/{id}/timeline", "/api/customers/{id}/unmerge",
                     "/api/customers/{id}/erase", "/api/connectors", "/api/connector-instances", "/webhooks/{instanceId}",
                     "/api/connector-instances/{id}/messages", "/api/connector-instances/{id}/messages/{messageId}",
                     "/api/connector-instances/{id}/messages/{messageId}/retry", "/api/connector-instances/{id}/dead-letters",
                     "/api/leads", "/api/leads/{id}", "/api/leads/{id}/contact", "/api/leads/{id}/accept", "/api/leads/{id}/reject", "/api/leads/{id}/assign",
                     "/api/scoring-model", "/api/sla-policies", "/api/sales-reps", "/api/sales-reps/{id}",
                     "/api/reports/leads/quality", "/api/reports/leads/sla", "/api/reports/leads/mql-commitment"])
        {
            Assert.True(paths.TryGetProperty(route, out _), $"{route} is not in the OpenAPI document");
        }

        var track = paths.GetProperty("/v1/track").GetProperty("post");
        Assert.True(track.GetProperty("requestBody").GetProperty("content").TryGetProperty("text/plain", out _));
        Assert.True(track.GetProperty("responses").TryGetProperty("400", out _));
        Assert.Equal("WriteKey", track.GetProperty("security")[0].EnumerateObject().Single().Name);
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.True(schemes.TryGetProperty("ApiKey", out _));
        Assert.True(schemes.TryGetProperty("WriteKey", out _));
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task Dispatch_partitions_keep_durable_reminders_in_the_embedded_sqlite_store()
    {
        await Host.SendOkAsync("/v1/track", """{"anonymousId":"reminder-check","event":"x"}""");
        await Host.DrainAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Host.DataDirectory, "modulith.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), MIN(Period) FROM OrleansRemindersTable WHERE ReminderName = 'drain'";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(16, reader.GetInt64(0));
        Assert.Equal(60_000, reader.GetInt64(1));
    }

    [Fact]
    public async Task Responses_carry_a_correlation_id()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.Add("X-Correlation-Id", "abc-123");
        using var response = await Host.Client.SendAsync(request);
        Assert.Equal("abc-123", response.Headers.GetValues("X-Correlation-Id").Single());
    }
}

public sealed class RateLimitTests
{
    [Fact]
    public async Task Over_the_rate_limit_ingestion_answers_429_with_retry_after()
    {
        await using var host = TestHost.StartSqlite(settings: new Dictionary<string, string?> { ["Modulith:RateLimits:IngestionPerSecond"] = "5" });
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 30; i++)
        {
            statuses.Add(await host.SendAsync("/v1/track", """{"anonymousId":"a","event":"x"}"""));
        }

        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.True(limited[0].Headers.RetryAfter is not null);
        Assert.Equal("application/problem+json", limited[0].Content.Headers.ContentType?.MediaType);
        Assert.Contains(statuses, r => r.StatusCode == HttpStatusCode.OK);
    }
}
