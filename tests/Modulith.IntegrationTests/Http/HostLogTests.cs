using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

/// <summary>What the host, run with its default settings, writes to its log.</summary>
public sealed class HostLogTests
{
    private const int Visitors = 12;

    [Fact]
    public async Task Routine_grain_activations_leave_no_lines_in_the_log_at_the_default_level()
    {
        var admin = "mk_log_" + Guid.NewGuid().ToString("N");
        var write = "wk_log_" + Guid.NewGuid().ToString("N");
        var run = Guid.NewGuid().ToString("N")[..6];
        await using var host = await HostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Modulith__DataDirectory"] = Scratch.NewDirectory("log"),
            ["Modulith__Bootstrap__AdminKey"] = admin,
            ["Modulith__Bootstrap__WriteKey"] = write,
        });

        using (var client = host.Client())
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(write + ":")));
            var messages = Enumerable.Range(0, Visitors).Select(v =>
                $$"""{"type":"track","userId":"{{run}}-v{{v}}","event":"Product Viewed","messageId":"{{run}}-{{v}}"}""");
            using var response = await client.PostAsync("/v1/batch", new StringContent("{\"batch\":[" + string.Join(',', messages) + "]}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Each new visitor activates grains of its own (identity index, customer, lead); wait until all were applied.
        using var api = host.Client(admin);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var v = 0; v < Visitors; v++)
        {
            while ((await api.GetFromJsonAsync<JsonElement>($"/api/customers?userId={run}-v{v}")).GetProperty("items").GetArrayLength() == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Visitor {v} was not applied within 30 s.");
                await Task.Delay(100);
            }
        }

        var lines = host.Output.Split('\n');
        Assert.Contains(lines, line => line.Contains(" INF] ", StringComparison.Ordinal));
        // Orleans places each new activation through a Polly pipeline whose telemetry reports every attempt at Information.
        Assert.DoesNotContain(lines, line => line.Contains(" INF] Polly", StringComparison.Ordinal));
    }
}
