using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.PostgreSql;

/// <summary>
/// Text PostgreSQL cannot store (the NUL character), an unpaired surrogate and bytes that are not UTF-8 are refused at the
/// door with a 400, in both storage modes. On PostgreSQL a NUL used to reach the group commit and fail every request that
/// shared it, and a NUL in a trait failed each later write of the profile.
/// </summary>
public sealed class UnstorableTextTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Unstorable_text_gets_a_400_and_the_requests_sent_beside_it_are_stored(string mode)
    {
        await using var host = await StartAsync(mode);
        var run = Guid.NewGuid().ToString("N")[..8];
        string[] bad =
        [
            $$"""{"userId":"nul-{{run}}\u0000","event":"x"}""",
            $$"""{"userId":"u-{{run}}","event":"Order\u0000Completed"}""",
            $$$"""{"batch":[{"type":"identify","userId":"t-{{{run}}}","traits":{"email":"a\u0000@example.com"}}]}""",
            $$"""{"userId":"s-{{run}}\ud800","event":"x"}""",
        ];

        var sends = new List<Task<HttpResponseMessage>>();
        for (var round = 0; round < 5; round++)
        {
            sends.AddRange(Enumerable.Range(0, 20).Select(i => host.SendAsync("/v1/track", $$"""{"userId":"good-{{run}}-{{round}}-{{i}}","event":"Product Viewed"}""")));
            sends.AddRange(bad.Select(body => host.SendAsync(body.Contains("\"batch\"", StringComparison.Ordinal) ? "/v1/batch" : "/v1/track", body)));
            sends.Add(SendBytesAsync(host, [.. Encoding.UTF8.GetBytes($"{{\"userId\":\"b-{run}"), 0xFF, .. "\",\"event\":\"x\"}"u8]));
        }

        var responses = await Task.WhenAll(sends);
        var good = 0;
        foreach (var response in responses)
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    good++;
                    continue;
                }

                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
                Assert.True(detail.Contains("NUL character", StringComparison.Ordinal) || detail.Contains("unpaired surrogate", StringComparison.Ordinal) ||
                    detail.Contains("not valid UTF-8", StringComparison.Ordinal), detail);
            }
        }

        Assert.Equal(100, good);
        await host.DrainAsync();
        Assert.NotNull(await host.FindCustomerAsync($"userId=good-{run}-4-19"));
        Assert.Null(await host.FindCustomerAsync($"userId=t-{run}"));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Unstorable_text_in_a_management_api_body_gets_a_400_naming_the_field(string mode)
    {
        await using var host = await StartAsync(mode);
        var admin = host.Admin();

        (string Body, string Expected)[] refused =
        [
            ("""{"name":"Shop\u0000"}""", "NUL character"),
            ("""{"name":"Shop\udc00"}""", "unpaired surrogate"),
        ];
        foreach (var (body, expected) in refused)
        {
            using var response = await admin.PostAsync("/api/workspaces", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Contains(expected, detail, StringComparison.Ordinal);
            Assert.Contains("$.name", detail, StringComparison.Ordinal);
        }

        using var created = await admin.PostAsync("/api/workspaces", new StringContent("""{"name":"Caf\u00e9 \ud83d\ude00"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("Café \U0001F600", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
    }

    private static async Task<TestHost> StartAsync(string mode) =>
        mode == "sqlite" ? TestHost.StartSqlite() : TestHost.StartPostgres(await Postgres.CreateDatabaseAsync(), "text-" + Guid.NewGuid().ToString("N")[..8]);

    private static Task<HttpResponseMessage> SendBytesAsync(TestHost host, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(host.WriteKey + ":")));
        return host.Client.SendAsync(request);
    }
}
