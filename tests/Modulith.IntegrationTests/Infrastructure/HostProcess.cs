using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>The built host run as its own OS process, so a test can kill it with SIGKILL.</summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<HostProcess> StartAsync(IDictionary<string, string> environment)
    {
        // A free port found by the test can be taken by another process (an outgoing connection's ephemeral port) before
        // the host binds it; only that failure is tried again, with new ports.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(environment);
            }
            catch (HostExitedAtStartException exited) when (attempt < 3 && exited.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<HostProcess> StartOnceAsync(IDictionary<string, string> environment)
    {
        var port = TestHost.FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modulith.Host.dll"), "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment.TryAdd("Modulith__Cluster__SiloPort", TestHost.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.Environment.TryAdd("Modulith__Cluster__GatewayPort", TestHost.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var process = Process.Start(start)!;
        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await host.WaitReadyAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    public HttpClient Client(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitReadyAsync()
    {
        using var client = Client();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // Until the output streams end, the last lines (the reason) may not have been read yet.
                await _process.WaitForExitAsync();
                throw new HostExitedAtStartException($"The host exited at start with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The host did not become ready:\n" + Output);
    }
}

/// <summary>The host process ended before it was ready; the message holds its whole output.</summary>
public sealed class HostExitedAtStartException(string message) : Exception(message);
