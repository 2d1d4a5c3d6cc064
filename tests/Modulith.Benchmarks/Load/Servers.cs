using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Modulith.Benchmarks.Load;

/// <summary>A server process under load: the Modulith host, or the bare Kestrel baseline.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The server process's CPU time so far (user and kernel, all threads).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>
    /// Which host the benchmarks start: the copy in their own output folder, which only a build of the benchmark project
    /// refreshes (building the host alone leaves the old copy here). Its version carries the commit it was built from;
    /// the time is that of the newest of its modules.
    /// </summary>
    public static string HostBuild
    {
        get
        {
            var version = FileVersionInfo.GetVersionInfo(Path.Combine(AppContext.BaseDirectory, "Modulith.Host.dll")).ProductVersion;
            var built = Directory.GetFiles(AppContext.BaseDirectory, "Modulith.*.dll").Max(File.GetLastWriteTimeUtc);
            return $"host {version}, built {built:yyyy-MM-dd HH:mm} UTC";
        }
    }

    public static async Task<ServerProcess> StartModulithAsync(IDictionary<string, string> environment)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modulith.Host.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["Modulith__Cluster__SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Modulith__Cluster__GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Modulith__RateLimits__IngestionPerSecond"] = "100000000";
        start.Environment["Modulith__RateLimits__ApiPerSecond"] = "100000000";
        start.Environment["Modulith__Ingestion__MaxPendingEvents"] = "10000000";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        // Settings under trial pass through from the benchmark's own environment.
        foreach (var (key, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value)).Where(e => e.Item1.StartsWith("Modulith__", StringComparison.Ordinal)))
        {
            start.Environment[key] = value;
        }

        return await StartAsync(start, port, "/health/ready");
    }

    /// <summary>The baseline: this program in <c>baseline-server</c> mode (Kestrel, parse the JSON, answer 200).</summary>
    public static Task<ServerProcess> StartBaselineAsync()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modulith.Benchmarks.dll"), "baseline-server", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return StartAsync(start, port, "/health");
    }

    /// <summary>Runs the baseline server in this process until killed.</summary>
    public static async Task RunBaselineAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var ok = "{\"success\":true}"u8.ToArray();
        app.MapGet("/health", () => "ok");
        app.MapPost("/v1/{type}", async (HttpContext context) =>
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body);
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(ok);
        });
        await app.RunAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    // MODULITH_BENCH_HOST_LOG=<file> keeps the servers' output (Warning and above) for diagnosis: one writer for all of them.
    private static readonly Lazy<TextWriter?> HostLog = new(() =>
        Environment.GetEnvironmentVariable("MODULITH_BENCH_HOST_LOG") is { Length: > 0 } path ? TextWriter.Synchronized(File.AppendText(path)) : null);

    private static async Task<ServerProcess> StartAsync(ProcessStartInfo start, int port, string readyPath)
    {
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { HostLog.Value?.WriteLine(e.Data); HostLog.Value?.Flush(); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var client = new HttpClient { BaseAddress = server.Address };
        for (var i = 0; i < 300; i++)
        {
            try
            {
                if ((await client.GetAsync(readyPath)).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not become ready.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
