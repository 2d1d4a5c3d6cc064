using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

/// <summary>The real npm client <c>@segment/analytics-node</c> (installed by tests/run-tests.sh) against the real host.</summary>
public sealed class SegmentNodeClientTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    [Fact]
    public async Task Identify_track_page_and_alias_from_analytics_node_make_one_profile_with_every_event()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await RunClientAsync(Host.BaseAddress.ToString().TrimEnd('/'), Host.WriteKey, run);
        await Host.DrainAsync();

        var byUserId = await Host.FindCustomerAsync($"userId=node-user-{run}");
        Assert.NotNull(byUserId);
        Assert.Equal(byUserId, await Host.FindCustomerAsync($"anonymousId=node-anon-{run}"));
        Assert.Equal(byUserId, await Host.FindCustomerAsync($"email=node-{run}@example.com"));
        var timeline = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{byUserId}/timeline");
        var types = timeline.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).Order().ToList();
        Assert.Equal(["alias", "identify", "page", "track", "track"], types);
        var profile = await Host.ProfileAsync(byUserId!);
        Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.True("paid_search" == profile.GetProperty("touchpoints")[0].GetProperty("channel").GetString(), profile.GetProperty("touchpoints").GetRawText() + timeline.GetRawText());
    }

    private static async Task RunClientAsync(string host, string writeKey, string run)
    {
        var directory = ClientDirectory();
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "@segment", "analytics-node")),
            $"The npm client is not installed in {directory}: run tests/run-tests.sh (it runs npm install there).");
        var start = new ProcessStartInfo("node", ["send.mjs", host, writeKey, run])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"node send.mjs failed: {await output} {await errors}");
    }

    private static string ClientDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Modulith.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Modulith.sln not found above the test binaries."), "tests", "clients", "segment-node");
    }
}
