using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>
/// The connector template (docs/connector-template), copied outside the repository, built on its own against the SDK
/// only, dropped into a plugins folder: the next start loads it, lists it, and its webhooks work.
/// </summary>
public sealed class OutOfSolutionPluginTests
{
    [Fact]
    public async Task A_connector_built_outside_the_solution_is_loaded_at_the_next_start_and_its_webhooks_work()
    {
        var root = PluginHostFixture.RepositoryRoot();
        var work = Scratch.NewDirectory("outside");
        CopyDirectory(Path.Combine(root, "docs", "connector-template"), work);
        var plugins = Path.Combine(work, "plugins");
        var sdk = typeof(Modulith.Connectors.Sdk.IConnectorRegistrar).Assembly.Location;
        await RunAsync("dotnet", ["build", Path.Combine(work, "Acme.Connector", "Acme.Connector.csproj"), "-c", "Release", "-o", Path.Combine(plugins, "Acme.Connector"), $"-p:ModulithSdkPath={sdk}", "-nologo", "-v", "quiet"]);
        Assert.False(File.Exists(Path.Combine(plugins, "Acme.Connector", "Modulith.Connectors.Sdk.dll")), "The SDK must not be copied into the plugin folder.");

        await using var host = TestHost.StartSqlite(settings: new Dictionary<string, string?> { ["Modulith:Plugins:Directory"] = plugins });
        var list = await host.Admin().GetFromJsonAsync<JsonElement>("/api/connectors");
        var acme = Assert.Single(list.GetProperty("connectors").EnumerateArray());
        Assert.Equal("acme", acme.GetProperty("id").GetString());
        Assert.Equal("Loaded", acme.GetProperty("status").GetString());

        using var created = await host.Admin().PostAsJsonAsync("/api/connector-instances", new { connectorId = "acme", name = "acme shop", settings = new Dictionary<string, string> { ["signingSecret"] = "s3cret" } });
        var instance = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        const string body = """{"id":"evt-1","type":"order.created","order":{"id":"A-1","email":"acme.buyer@example.com","total":12.5,"currency":"EUR"}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/{instance}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Acme-Signature", Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8.ToArray(), Encoding.UTF8.GetBytes(body))));
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await host.DrainAsync();
        var profile = await host.ProfileAsync((await host.FindCustomerAsync("email=acme.buyer@example.com"))!);
        Assert.Equal(12.5m, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed:\n{await output}\n{await errors}");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
        {
            CopyDirectory(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
