using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Ingestion.Dispatch;

namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>The real host (Kestrel on a free loopback port, its own Orleans silo and store), driven over HTTP.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly Factory _factory;
    private readonly bool _ownsDataDirectory;

    private TestHost(Factory factory, string adminKey, string writeKey, string dataDirectory, bool ownsDataDirectory = false)
    {
        _factory = factory;
        _ownsDataDirectory = ownsDataDirectory;
        AdminKey = adminKey;
        WriteKey = writeKey;
        DataDirectory = dataDirectory;
        _factory.UseKestrel(0);
        _factory.StartServer();
        Client = _factory.CreateClient();
        Client.Timeout = TimeSpan.FromSeconds(60);
        BaseAddress = Client.BaseAddress!;
    }

    public HttpClient Client { get; }

    public Uri BaseAddress { get; }

    public string AdminKey { get; }

    public string WriteKey { get; }

    public string DataDirectory { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>Fresh bootstrap keys as settings: a host started again on the same store, or a second silo, uses the same keys.</summary>
    public static Dictionary<string, string?> KeySettings(string name) => new()
    {
        ["Modulith:Bootstrap:AdminKey"] = $"mk_{name}_" + Guid.NewGuid().ToString("N"),
        ["Modulith:Bootstrap:WriteKey"] = $"wk_{name}_" + Guid.NewGuid().ToString("N"),
    };

    /// <summary><see cref="KeySettings"/>, with the built connector plugins loaded and the outbox polling at the given interval.</summary>
    public static Dictionary<string, string?> KeySettingsWithChannels(string name, string pollInterval = "00:00:00.100")
    {
        var settings = KeySettings(name);
        settings["Modulith:Plugins:Directory"] = Connectors.PluginHostFixture.BuiltPluginsFolder();
        settings["Modulith:Messaging:PollInterval"] = pollInterval;
        return settings;
    }

    /// <summary>
    /// Starts a host on the embedded SQLite store (a fresh data directory unless one is given); <paramref name="services"/>
    /// adds to the host's services (an observer of a module's integration events, say).
    /// </summary>
    public static TestHost StartSqlite(string? dataDirectory = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var owned = dataDirectory is null;
        dataDirectory ??= Scratch.NewDirectory("test");
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Modulith:DataDirectory"] = dataDirectory,
        };
        return Start(all, dataDirectory, services, owned);
    }

    /// <summary>Starts a silo of a PostgreSQL cluster.</summary>
    public static TestHost StartPostgres(string connectionString, string clusterId, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Modulith:Storage:Provider"] = "PostgreSql",
            ["Modulith:Storage:ConnectionString"] = connectionString,
            ["Modulith:Cluster:ClusterId"] = clusterId,
            ["Modulith:Cluster:ServiceId"] = clusterId,
        };
        return Start(all, Path.GetTempPath());
    }

    private static TestHost Start(Dictionary<string, string?> settings, string dataDirectory, Action<IServiceCollection>? services = null, bool ownsDataDirectory = false)
    {
        settings.TryAdd("Modulith:Bootstrap:Workspace", "shop-a");
        settings.TryAdd("Modulith:Bootstrap:AdminKey", "mk_test_admin_" + Guid.NewGuid().ToString("N"));
        settings.TryAdd("Modulith:Bootstrap:WriteKey", "wk_test_write_" + Guid.NewGuid().ToString("N"));
        settings["Modulith:Cluster:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Modulith:Cluster:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings.TryAdd("Serilog:MinimumLevel:Default", "Warning");
        return new TestHost(new Factory(settings, services), settings["Modulith:Bootstrap:AdminKey"]!, settings["Modulith:Bootstrap:WriteKey"]!, dataDirectory, ownsDataDirectory);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Distinct free ports for listeners that a restarted process binds again. Not from the kernel's ephemeral range
    /// (32768 and up on Linux), where any outgoing connection of any process may take one as its local port while the
    /// listener is down (CI once saw this test's silo fail to bind its gateway: "Address already in use").
    /// </summary>
    public static int[] FreePortsToBindAgain(int count)
    {
        var held = new List<TcpListener>();
        try
        {
            for (var attempt = 0; held.Count < count; attempt++)
            {
                var listener = new TcpListener(IPAddress.Any, Random.Shared.Next(20_000, 32_000));
                try
                {
                    listener.Start();
                    held.Add(listener);
                }
                catch (SocketException) when (attempt < 100)
                {
                    listener.Dispose();
                }
            }

            return held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            held.ForEach(l => l.Dispose());
        }
    }

    /// <summary>Waits until every committed event has been applied to the grains.</summary>
    public Task DrainAsync() => Services.GetRequiredService<EventDispatch>().DrainAllAsync();

    public HttpClient ApiClient(string apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public HttpClient Admin() => ApiClient(AdminKey);

    /// <summary>Creates another workspace with the platform administrator key; answers its id, an admin client and its write key.</summary>
    public async Task<(string Id, HttpClient Admin, string WriteKey)> CreateWorkspaceAsync(string name)
    {
        using var response = await Admin().PostAsJsonAsync("/api/workspaces", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("id").GetString()!, ApiClient(created.GetProperty("adminKey").GetString()!), created.GetProperty("writeKey").GetString()!);
    }

    public Task<HttpResponseMessage> SendAsync(string route, string json, string? writeKey = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new StringContent(json, Encoding.UTF8, contentType) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes((writeKey ?? WriteKey) + ":")));
        return Client.SendAsync(request);
    }

    public async Task SendOkAsync(string route, string json, string? writeKey = null)
    {
        using var response = await SendAsync(route, json, writeKey);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The customer id an identifier resolves to, through the public search route.</summary>
    public async Task<string?> FindCustomerAsync(string query, HttpClient? client = null)
    {
        var page = await (client ?? Admin()).GetFromJsonAsync<JsonElement>("/api/customers?" + query);
        var items = page.GetProperty("items");
        return items.GetArrayLength() == 0 ? null : items[0].GetProperty("id").GetString();
    }

    public async Task<JsonElement> ProfileAsync(string customerId, HttpClient? client = null) =>
        await (client ?? Admin()).GetFromJsonAsync<JsonElement>($"/api/customers/{customerId}");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
        if (_ownsDataDirectory)
        {
            Scratch.Delete(DataDirectory);
        }
    }

    private sealed class Factory(Dictionary<string, string?> settings, Action<IServiceCollection>? services) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            if (services is not null)
            {
                builder.ConfigureServices(services);
            }
        }
    }
}
