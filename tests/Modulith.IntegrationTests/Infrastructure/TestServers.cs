using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>A small real HTTP server on a free loopback port, standing in for a webhook receiver or a provider.</summary>
public static class LoopbackServer
{
    public static async Task<(WebApplication App, int Port)> StartAsync(Action<WebApplication> map)
    {
        var port = TestHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, port);
    }
}

/// <summary>Waiting for something the host does in the background, with the state in the failure message.</summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, Func<T, string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, failure(value));
            await Task.Delay(50);
        }
    }

    public static Task UntilAsync(Func<bool> done, TimeSpan timeout, string failure) =>
        UntilAsync(() => Task.FromResult(done()), d => d, timeout, _ => failure);
}

/// <summary>Creates connector instances through the public route.</summary>
public static class ConnectorInstances
{
    /// <summary>A webhook channel instance posting to <paramref name="url"/>, signed with <paramref name="key"/>.</summary>
    public static async Task<string> CreateWebhookAsync(HttpClient admin, string url, byte[] key, string name = "webhook")
    {
        using var response = await admin.PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "webhook",
            name,
            settings = new Dictionary<string, string> { ["url"] = url, ["secret"] = "whsec_" + Convert.ToBase64String(key) },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
