using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Connectors;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Segmentation;

/// <summary>The CDNOW purchase history imported through the public API reproduces the published CLV models.</summary>
public sealed class CustomerValueTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static string CdnowCsv()
    {
        var path = Path.Combine(PluginHostFixture.RepositoryRoot(), "..", "shared", "datasets", "cdnow", "CDNOW_sample.txt");
        var csv = new StringBuilder("order_id,user_id,placed_at,revenue,currency\n");
        var line = 0;
        foreach (var row in File.ReadLines(path))
        {
            var parts = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 5)
            {
                line++;
                csv.Append(CultureInfo.InvariantCulture, $"cdnow-{line},cdnow-{parts[1]},{parts[2]},{parts[4]},USD\n");
            }
        }

        return csv.ToString();
    }

    private static async Task<JsonElement> ImportAsync(HttpClient admin, string body, string contentType)
    {
        using var response = await admin.PostAsync("/api/orders/import", new StringContent(body, Encoding.UTF8, contentType));
        var status = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {status}");
        var id = status.GetProperty("id").GetString()!;
        return await Eventually.UntilAsync(
            () => admin.GetFromJsonAsync<JsonElement>($"/api/orders/import/{id}"),
            s => s.GetProperty("status").GetString() is "completed" or "failed",
            TimeSpan.FromSeconds(120),
            s => $"The import did not complete: {s}");
    }

    [Fact]
    public async Task The_cdnow_history_imported_through_the_api_gives_the_published_bg_nbd_and_gamma_gamma_parameters()
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("clv-cdnow-" + Guid.NewGuid().ToString("N")[..6]);
        var csv = CdnowCsv();

        var done = await ImportAsync(admin, csv, "text/csv");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(6919, done.GetProperty("total").GetInt32());
        Assert.Equal(6919, done.GetProperty("ingested").GetInt32());
        Assert.Equal(6919, done.GetProperty("applied").GetInt64());

        var model = await admin.GetFromJsonAsync<JsonElement>("/api/clv/model?asOf=1997-09-30");
        Assert.Equal("weeks", model.GetProperty("timeUnit").GetString());
        var bgNbd = model.GetProperty("bgNbd");
        Assert.Equal(2357, bgNbd.GetProperty("customers").GetInt32());
        AssertWithinOnePercent(0.243, bgNbd.GetProperty("r").GetDouble());
        AssertWithinOnePercent(4.414, bgNbd.GetProperty("alpha").GetDouble());
        AssertWithinOnePercent(0.793, bgNbd.GetProperty("a").GetDouble());
        AssertWithinOnePercent(2.426, bgNbd.GetProperty("b").GetDouble());
        Assert.InRange(bgNbd.GetProperty("logLikelihood").GetDouble(), -9582.5, -9582.3);
        var gammaGamma = model.GetProperty("gammaGamma");
        Assert.Equal(946, gammaGamma.GetProperty("customers").GetInt32());
        AssertWithinOnePercent(6.25, gammaGamma.GetProperty("p").GetDouble());
        AssertWithinOnePercent(3.74, gammaGamma.GetProperty("q").GetDouble());
        AssertWithinOnePercent(15.44, gammaGamma.GetProperty("v").GetDouble());

        // Customer 0001 of the summary: purchases on 1997-01-01, 01-18 and 08-02 before the calibration end.
        var customer = await Host.FindCustomerAsync("userId=cdnow-0001", admin);
        var value = await admin.GetFromJsonAsync<JsonElement>($"/api/clv/customers/{customer}?asOf=1997-09-30&horizonWeeks=39");
        Assert.Equal(2, value.GetProperty("repeatPurchases").GetInt32());
        Assert.Equal(30.43, value.GetProperty("recencyWeeks").GetDouble(), 0.005);
        Assert.Equal(38.86, value.GetProperty("ageWeeks").GetDouble(), 0.005);
        Assert.Equal(1.226, value.GetProperty("expectedPurchases").GetDouble(), 0.01);
        var alive = value.GetProperty("probabilityAlive").GetDouble();
        Assert.Equal(1 - alive, value.GetProperty("churnProbability").GetDouble(), 1e-9);
        Assert.True(value.GetProperty("predictedValue").GetDouble() > 0);
        var profile = await Host.ProfileAsync(customer!, admin);
        Assert.Equal(4, profile.GetProperty("orders").GetProperty("count").GetInt32());

        // The import is followed by an RFM and value run on its own: every buyer scored, with a predicted CLV to segment on.
        var rfm = await Eventually.UntilAsync(
            async () => (await admin.GetAsync("/api/rfm")).StatusCode == HttpStatusCode.OK ? await admin.GetFromJsonAsync<JsonElement>("/api/rfm") : default,
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("customers").GetInt32() == 2357,
            TimeSpan.FromSeconds(60),
            r => $"No RFM run after the import: {r}");
        Assert.Equal(2357, rfm.GetProperty("cells").EnumerateObject().Sum(c => c.Value.GetInt64()));
        using (var scored = await admin.PostAsJsonAsync("/api/segments/preview", new { rule = new { all = new object[] { new { metric = "churnProbability", op = "between", value = new[] { 0, 1 } }, new { metric = "clv", op = "gte", value = 0 } } } }))
        {
            var preview = await scored.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(2357, preview.GetProperty("count").GetInt64());
        }

        // Importing the same orders again changes nothing.
        var again = await ImportAsync(admin, csv, "text/csv");
        Assert.Equal("completed", again.GetProperty("status").GetString());
        Assert.Equal(4, (await Host.ProfileAsync(customer!, admin)).GetProperty("orders").GetProperty("count").GetInt32());
        var refit = await admin.GetFromJsonAsync<JsonElement>("/api/clv/model?asOf=1997-09-30");
        Assert.Equal(model.GetProperty("orders").GetInt64(), refit.GetProperty("orders").GetInt64());

        // Another workspace sees none of it.
        var (_, other, _) = await Host.CreateWorkspaceAsync("clv-other-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/clv/model?asOf=1997-09-30")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/orders/import/{done.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/clv/customers/{customer}")).StatusCode);
        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/orders/import")).EnumerateArray());
    }

    [Fact]
    public async Task Json_lines_orders_known_by_email_land_on_the_customer_and_invalid_imports_store_nothing()
    {
        var (_, admin, _) = await Host.CreateWorkspaceAsync("clv-jsonl-" + Guid.NewGuid().ToString("N")[..6]);
        var lines = string.Join('\n',
            """{"orderId":"A-1","email":"Ola@Example.com","placedAt":"2026-03-01T10:00:00Z","revenue":120.5,"currency":"pln","margin":40}""",
            """{"orderId":"A-2","email":"ola@example.com","placedAt":"2026-04-01","revenue":80,"currency":"PLN"}""");
        var done = await ImportAsync(admin, lines, "application/x-ndjson");
        Assert.Equal(2, done.GetProperty("applied").GetInt64());
        var customer = await Host.FindCustomerAsync("email=ola@example.com", admin);
        Assert.NotNull(customer);
        var value = await admin.GetFromJsonAsync<JsonElement>($"/api/clv/customers/{customer}?asOf=2026-05-01");
        Assert.Equal(2, value.GetProperty("orders").GetInt32());
        Assert.Equal(200.5, value.GetProperty("revenue").GetDouble(), 0.001);
        Assert.Equal(40, value.GetProperty("margin").GetDouble(), 0.001);
        Assert.Equal(JsonValueKind.Null, value.GetProperty("probabilityAlive").ValueKind); // one customer cannot fit a model
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/clv/model")).StatusCode);

        var bad = "order_id,email,placed_at,revenue\nB-1,b@example.com,2026-13-01,10\nB-2,,2026-01-01,ten\nB-3,c@example.com,2026-01-02,5\n";
        using var refused = await admin.PostAsync("/api/orders/import", new StringContent(bad, Encoding.UTF8, "text/csv"));
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains("Line 2", errors[0]);
        Assert.Contains("'placed_at'", errors[0]);
        Assert.Contains("Line 3", errors[1]);
        Assert.Contains("'revenue'", errors[1]);
        Assert.Contains("a customer is required", errors[1]);
        Assert.Null(await Host.FindCustomerAsync("email=c@example.com", admin));

        using var noHeader = await admin.PostAsync("/api/orders/import", new StringContent("id,when\n1,2\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, noHeader.StatusCode);
        using var wrongType = await admin.PostAsync("/api/orders/import", new StringContent("{}", Encoding.UTF8, "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        using var duplicate = await admin.PostAsync("/api/orders/import", new StringContent("order_id,email,placed_at,revenue\nD,d@example.com,2026-01-01,1\nD,d@example.com,2026-01-02,1\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/clv/model?asOf=30.09.1997")).StatusCode);
        Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/orders/import")).EnumerateArray());
    }

    private static void AssertWithinOnePercent(double published, double actual) =>
        Assert.True(Math.Abs(actual - published) <= 0.01 * published, $"{actual} is not within 1% of the published {published}.");
}
