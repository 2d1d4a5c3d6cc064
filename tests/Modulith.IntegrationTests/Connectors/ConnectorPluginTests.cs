using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>Plugins load isolated from a plugins folder; broken ones are listed as faulted or refused and the host goes on.</summary>
public sealed class ConnectorPluginTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>
{
    private TestHost Host => fixture.Host;

    [Fact]
    public async Task Plugins_are_listed_with_version_status_and_the_reason_they_did_not_load()
    {
        var list = await Host.Admin().GetFromJsonAsync<JsonElement>("/api/connectors");
        Assert.Equal(SdkInfo.Version, list.GetProperty("hostSdkVersion").GetString());
        var byFolder = list.GetProperty("connectors").EnumerateArray().ToDictionary(c => c.GetProperty("folder").GetString()!);

        var webhook = byFolder["Modulith.Connectors.Webhook"];
        Assert.Equal("Loaded", webhook.GetProperty("status").GetString());
        Assert.Equal("webhook", webhook.GetProperty("id").GetString());
        Assert.Equal("1.0.0", webhook.GetProperty("version").GetString());
        Assert.Equal("Channel", webhook.GetProperty("kind").GetString());
        Assert.Contains(webhook.GetProperty("configuration").EnumerateArray(), s => s.GetProperty("name").GetString() == "secret" && s.GetProperty("secret").GetBoolean());

        Assert.Equal("Faulted", byFolder["Corrupt"].GetProperty("status").GetString());
        Assert.Contains("BadImageFormat", byFolder["Corrupt"].GetProperty("error").GetString());
        Assert.Equal("Refused", byFolder["FutureSdk"].GetProperty("status").GetString());
        Assert.Contains("SDK 2.0.0", byFolder["FutureSdk"].GetProperty("error").GetString());
        Assert.Equal("Faulted", byFolder["NoManifest"].GetProperty("status").GetString());
        Assert.Contains("connector.json", byFolder["NoManifest"].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Plugins_that_throw_or_hang_when_they_start_are_faulted_with_the_reason()
    {
        var list = await Host.Admin().GetFromJsonAsync<JsonElement>("/api/connectors");
        var byFolder = list.GetProperty("connectors").EnumerateArray().ToDictionary(c => c.GetProperty("folder").GetString()!);
        Assert.Equal("Faulted", byFolder["Modulith.TestPlugins.Throwing"].GetProperty("status").GetString());
        Assert.Contains("fails on purpose", byFolder["Modulith.TestPlugins.Throwing"].GetProperty("error").GetString());
        Assert.Equal("Faulted", byFolder["Modulith.TestPlugins.Hanging"].GetProperty("status").GetString());
        Assert.Contains("did not finish within 2 s", byFolder["Modulith.TestPlugins.Hanging"].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Two_plugins_with_different_versions_of_one_library_both_load_and_each_uses_its_own()
    {
        var catalog = Host.Services.GetRequiredService<PluginCatalog>();
        var settings = new ConnectorSettings("i", "shop-a", new Dictionary<string, string>());
        var versions = new List<string>();
        foreach (var id in (string[])["test-jsonold", "test-jsonnew"])
        {
            var plugin = catalog.Plugins.Single(p => p.Manifest?.Id == id);
            Assert.Equal(PluginStatus.Loaded, plugin.Status);
            var sent = await plugin.Channel!.SendAsync(new OutboundMessage("k-" + id, "r", null, "t", null, null, false), settings, CancellationToken.None);
            Assert.Equal("{\"IdempotencyKey\":\"k-" + id + "\"}", sent.ProviderMessageId);
            versions.Add((await plugin.Channel.CheckHealthAsync(settings, CancellationToken.None)).Detail);
        }

        Assert.StartsWith("13.0.1", versions[0]);
        Assert.StartsWith("13.0.3", versions[1]);
    }

    [Fact]
    public async Task The_host_works_on_beside_broken_plugins()
    {
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/health/ready")).StatusCode);
        await Host.SendOkAsync("/v1/identify", """{"userId":"beside-plugins"}""");
        await Host.DrainAsync();
        Assert.NotNull(await Host.FindCustomerAsync("userId=beside-plugins"));
    }

    [Fact]
    public async Task A_faulted_plugin_is_loaded_again_with_back_off_and_comes_back_without_a_restart()
    {
        var plugins = Scratch.NewDirectory("plugins-retry");
        var folder = Path.Combine(plugins, "Modulith.TestPlugins.Throwing");
        PluginHostFixture.Copy(Path.Combine(PluginHostFixture.TestPluginsFolder(), "Modulith.TestPlugins.Throwing"), folder);
        await using var host = TestHost.StartSqlite(settings: new Dictionary<string, string?>
        {
            ["Modulith:Plugins:Directory"] = plugins,
            ["Modulith:Plugins:RetryBaseDelay"] = "00:00:00.300",
        });

        var first = await ThrowingPluginAsync(host);
        Assert.Equal("Faulted", first.GetProperty("status").GetString());
        Assert.Equal("unavailable", first.GetProperty("health").GetString());
        Assert.Contains("fails on purpose", first.GetProperty("error").GetString());
        Assert.NotEqual(JsonValueKind.Null, first.GetProperty("nextRetryAt").ValueKind);

        // Still failing: the attempts go on, each after a longer wait, and a read during an attempt still shows the retry planned.
        await WaitUntilAsync(async () =>
        {
            var plugin = await ThrowingPluginAsync(host);
            Assert.NotEqual(JsonValueKind.Null, plugin.GetProperty("nextRetryAt").ValueKind);
            return plugin.GetProperty("loadAttempts").GetInt32() >= 3;
        });
        File.WriteAllText(Path.Combine(folder, "healed"), "ok");
        await WaitUntilAsync(async () => (await ThrowingPluginAsync(host)).GetProperty("status").GetString() == "Loaded");

        var healed = await ThrowingPluginAsync(host);
        Assert.Equal("healthy", healed.GetProperty("health").GetString());
        Assert.Equal(JsonValueKind.Null, healed.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, healed.GetProperty("nextRetryAt").ValueKind);
        Assert.True(healed.GetProperty("loadAttempts").GetInt32() >= 3);
        var created = await host.Admin().PostAsJsonAsync("/api/connector-instances", new { connectorId = "test-throwing", name = "healed" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task<JsonElement> ThrowingPluginAsync(TestHost host)
    {
        var list = await host.Admin().GetFromJsonAsync<JsonElement>("/api/connectors");
        return list.GetProperty("connectors").EnumerateArray().Single(c => c.GetProperty("folder").GetString() == "Modulith.TestPlugins.Throwing");
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition) =>
        Eventually.UntilAsync(condition, done => done, TimeSpan.FromSeconds(30), _ => "The condition did not hold within 30 s.");

    [Fact]
    public async Task The_connector_list_needs_an_api_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Client.GetAsync("/api/connectors")).StatusCode);
    }

    [Fact]
    public async Task The_webhook_channel_posts_signed_messages_that_a_receiver_can_verify()
    {
        var received = new List<(Dictionary<string, string> Headers, string Body)>();
        var port = TestHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            lock (received)
            {
                // Kestrel reuses the header collection after the response: keep copies.
                received.Add((context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body));
            }

            return Results.Ok();
        });
        receiver.MapPost("/broken", () => Results.StatusCode(503));
        receiver.MapPost("/gone", () => Results.StatusCode(410));
        await receiver.StartAsync();

        var key = RandomNumberGenerator.GetBytes(32);
        var secret = "whsec_" + Convert.ToBase64String(key);
        var channel = Host.Services.GetRequiredService<PluginCatalog>().Plugins.Single(p => p.Manifest?.Id == "webhook").Channel!;
        ConnectorSettings Settings(string path) => new("inst-1", "shop-a", new Dictionary<string, string> { ["url"] = $"http://127.0.0.1:{port}{path}", ["secret"] = secret });

        var result = await channel.SendAsync(new OutboundMessage("msg-1", "jane@example.com", "Hello", "Hi Jane", null, null, false), Settings("/hook"), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Sent, result.Status);
        var (headers, body) = Assert.Single(received);
        Assert.Equal("msg-1", headers["webhook-id"]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"msg-1.{headers["webhook-timestamp"]}.{body}")));
        Assert.Equal(expected, headers["webhook-signature"]);
        Assert.Equal("Hi Jane", JsonDocument.Parse(body).RootElement.GetProperty("text").GetString());

        Assert.Equal(DeliveryStatus.TransientFailure, (await channel.SendAsync(new OutboundMessage("msg-2", "x", null, "t", null, null, false), Settings("/broken"), CancellationToken.None)).Status);
        Assert.Equal(DeliveryStatus.Rejected, (await channel.SendAsync(new OutboundMessage("msg-3", "x", null, "t", null, null, false), Settings("/gone"), CancellationToken.None)).Status);
        Assert.True((await channel.CheckHealthAsync(Settings("/hook"), CancellationToken.None)).Healthy);
        Assert.False((await channel.CheckHealthAsync(new ConnectorSettings("i", "w", new Dictionary<string, string> { ["url"] = "ftp://x", ["secret"] = secret }), CancellationToken.None)).Healthy);
    }
}

/// <summary>One host over a plugins folder holding the real webhook plugin and deliberately broken or conflicting ones.</summary>
public sealed class PluginHostFixture : IAsyncLifetime
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly string _plugins = Scratch.NewDirectory("plugins");

    public TestHost Host { get; private set; } = null!;

    public static string BuiltPluginsFolder() => Path.Combine(RepositoryRoot(), "src", "Modulith.Host", "bin", Configuration, "net10.0", "plugins");

    public static string TestPluginsFolder() => Path.Combine(RepositoryRoot(), "tests", "plugins", "bin", Configuration);

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Modulith.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Modulith.sln not found above the test binaries.");
    }

    public Task InitializeAsync()
    {
        var webhook = Path.Combine(BuiltPluginsFolder(), "Modulith.Connectors.Webhook");
        Assert.True(Directory.Exists(webhook), $"The normal build did not produce {webhook}.");
        Copy(webhook, Path.Combine(_plugins, "Modulith.Connectors.Webhook"));

        Copy(Path.Combine(BuiltPluginsFolder(), "Modulith.Connectors.Shopify"), Path.Combine(_plugins, "Modulith.Connectors.Shopify"));
        Copy(Path.Combine(BuiltPluginsFolder(), "Modulith.Connectors.Smtp"), Path.Combine(_plugins, "Modulith.Connectors.Smtp"));
        Copy(Path.Combine(BuiltPluginsFolder(), "Modulith.Connectors.WooCommerce"), Path.Combine(_plugins, "Modulith.Connectors.WooCommerce"));
        Copy(Path.Combine(BuiltPluginsFolder(), "Modulith.Connectors.Sms"), Path.Combine(_plugins, "Modulith.Connectors.Sms"));

        var corrupt = Directory.CreateDirectory(Path.Combine(_plugins, "Corrupt")).FullName;
        File.WriteAllText(Path.Combine(corrupt, "connector.json"), """{"id":"corrupt","name":"Corrupt","version":"1.0.0","kind":"Channel","sdkVersion":"1.0.0","assembly":"Corrupt.dll"}""");
        File.WriteAllBytes(Path.Combine(corrupt, "Corrupt.dll"), Encoding.ASCII.GetBytes("this is not an assembly"));

        var future = Path.Combine(_plugins, "FutureSdk");
        Copy(webhook, future);
        var manifest = File.ReadAllText(Path.Combine(future, "connector.json")).Replace("\"sdkVersion\": \"1.0.0\"", "\"sdkVersion\": \"2.0.0\"", StringComparison.Ordinal).Replace("\"id\": \"webhook\"", "\"id\": \"webhook-next\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(future, "connector.json"), manifest);

        Directory.CreateDirectory(Path.Combine(_plugins, "NoManifest"));
        foreach (var testPlugin in (string[])["JsonOld", "JsonNew", "Throwing", "Hanging", "Platform"])
        {
            var built = Path.Combine(TestPluginsFolder(), "Modulith.TestPlugins." + testPlugin);
            Assert.True(Directory.Exists(built), $"The normal build did not produce {built}.");
            Copy(built, Path.Combine(_plugins, "Modulith.TestPlugins." + testPlugin));
        }

        Host = TestHost.StartSqlite(settings: new Dictionary<string, string?>
        {
            ["Modulith:Plugins:Directory"] = _plugins,
            ["Modulith:Plugins:RegistrationTimeout"] = "00:00:02",
            ["Modulith:Messaging:RetryBaseDelay"] = "00:00:00.300",
            ["Modulith:Messaging:MaxAttempts"] = "3",
            ["Modulith:Messaging:PollInterval"] = "00:00:00.050",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();

    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }

        foreach (var folder in Directory.GetDirectories(from))
        {
            Copy(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }
}
