using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using McMaster.NETCore.Plugins;
using Polly;
using Modulith.Connectors.Sdk;

namespace Modulith.Host.Connectors;

/// <summary>Where connector plugins are loaded from (<c>Modulith:Plugins</c>).</summary>
public sealed class PluginOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Plugins";

    /// <summary>The plugins folder; <c>plugins</c> next to the host's binaries when absent.</summary>
    public string? Directory { get; set; }

    /// <summary>How long a plugin's registrar may run before the plugin is marked faulted.</summary>
    public TimeSpan RegistrationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait before a faulted plugin is loaded again; each further attempt waits twice as long.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two load attempts.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Load attempts (the first included) before a faulted plugin is left alone until the next start.</summary>
    public int MaxLoadAttempts { get; set; } = 10;

    public string EffectiveDirectory => string.IsNullOrWhiteSpace(Directory) ? Path.Combine(AppContext.BaseDirectory, "plugins") : Path.GetFullPath(Directory);
}

/// <summary>The state of one plugin folder.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PluginStatus>))]
public enum PluginStatus
{
    /// <summary>Loaded and registered.</summary>
    Loaded,

    /// <summary>Failed to load or register; isolated, the host goes on.</summary>
    Faulted,

    /// <summary>Built for an incompatible SDK version.</summary>
    Refused,
}

/// <summary>One plugin folder and what became of it.</summary>
internal sealed class LoadedPlugin
{
    public required string Folder { get; init; }

    public ConnectorManifest? Manifest { get; set; }

    public PluginStatus Status { get; set; } = PluginStatus.Faulted;

    public string? Error { get; set; }

    public int LoadAttempts { get; set; }

    public DateTimeOffset? NextRetryAt { get; set; }

    public IServiceProvider? Services { get; set; }

    public PluginLoader? Loader { get; set; }

    public IPlatformConnector? Platform => Services?.GetService<IPlatformConnector>();

    public IChannelConnector? Channel => Services?.GetService<IChannelConnector>();

    private readonly Polly.CircuitBreaker.CircuitBreakerStateProvider _circuit = new();

    public LoadedPlugin()
    {
        Resilience = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new Polly.CircuitBreaker.CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(30),
                StateProvider = _circuit,
                OnOpened = args =>
                {
                    LastCallError = args.Outcome.Exception is { } e ? $"{e.GetType().Name}: {e.Message}" : "calls failed";
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(5))
            .Build();
    }

    /// <summary>Every call into the plugin goes through this: a deadline and a circuit breaker, so a hanging or failing plugin cannot hold requests.</summary>
    public ResiliencePipeline Resilience { get; }

    /// <summary>Why the circuit last opened.</summary>
    public string? LastCallError { get; private set; }

    /// <summary>healthy (loaded, calls pass), circuit-open (recent calls failed: calls are refused for a while), recovering (half-open: trial calls) or unavailable (not loaded).</summary>
    public string Health => Status != PluginStatus.Loaded
        ? "unavailable"
        : _circuit.CircuitState switch
        {
            Polly.CircuitBreaker.CircuitState.Closed => "healthy",
            Polly.CircuitBreaker.CircuitState.HalfOpen => "recovering",
            _ => "circuit-open",
        };
}

/// <summary>Loads every plugin folder into its own load context, sharing only the SDK and the Microsoft.Extensions abstractions.</summary>
internal sealed partial class PluginCatalog(PluginOptions options, ILoggerFactory loggerFactory, TimeProvider clock, ILogger<PluginCatalog> logger)
{
    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    // The types whose assemblies the host shares with every plugin; everything else a plugin brings stays in its own context.
    private static readonly Type[] SharedTypes =
    [
        typeof(IConnectorRegistrar),
        typeof(IServiceCollection),
        typeof(ILogger),
        typeof(ILoggerFactory),
    ];

    private readonly List<LoadedPlugin> _plugins = [];

    public IReadOnlyList<LoadedPlugin> Plugins => _plugins;

    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var root = options.EffectiveDirectory;
        if (!Directory.Exists(root))
        {
            LogNoPluginFolder(root);
            return;
        }

        foreach (var folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var plugin = new LoadedPlugin { Folder = Path.GetFileName(folder) };
            _plugins.Add(plugin);
            await TryLoadAsync(plugin, folder, cancellationToken);
        }
    }

    /// <summary>Loads the faulted plugins whose back-off has passed again; answers when the next one is due.</summary>
    public async Task<DateTimeOffset?> RetryFaultedAsync(CancellationToken cancellationToken)
    {
        var root = options.EffectiveDirectory;
        foreach (var plugin in _plugins.Where(p => p.Status == PluginStatus.Faulted && p.NextRetryAt <= clock.GetUtcNow()).ToList())
        {
            await TryLoadAsync(plugin, Path.Combine(root, plugin.Folder), cancellationToken);
        }

        return _plugins.Where(p => p.NextRetryAt is not null).Min(p => p.NextRetryAt);
    }

    private async Task TryLoadAsync(LoadedPlugin plugin, string folder, CancellationToken cancellationToken)
    {
        // Status, error and the planned retry stay as they were while the attempt runs, so readers never see a half-made
        // state (a faulted plugin with no retry planned).
        plugin.LoadAttempts++;
        try
        {
            await LoadAsync(plugin, folder, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            plugin.Status = PluginStatus.Faulted;
            plugin.Error = $"{exception.GetType().Name}: {exception.Message}";
        }

        if (plugin.Status == PluginStatus.Loaded)
        {
            plugin.Error = null;
            plugin.NextRetryAt = null;
            LogLoaded(plugin.Manifest!.Id, plugin.Manifest.Version, plugin.Folder, plugin.LoadAttempts);
            return;
        }

        var delay = Math.Min(options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, plugin.LoadAttempts - 1), options.RetryMaxDelay.TotalMilliseconds);
        plugin.NextRetryAt = plugin.Status == PluginStatus.Faulted && plugin.LoadAttempts < options.MaxLoadAttempts ? clock.GetUtcNow().AddMilliseconds(delay) : null;

        LogNotLoaded(plugin.Folder, plugin.Status, plugin.Error, plugin.LoadAttempts, plugin.NextRetryAt);
    }

    private async Task LoadAsync(LoadedPlugin plugin, string folder, CancellationToken cancellationToken)
    {
        var manifestPath = Path.Combine(folder, "connector.json");
        if (!File.Exists(manifestPath))
        {
            plugin.Error = "The folder has no connector.json manifest.";
            return;
        }

        ConnectorManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ConnectorManifest>(await File.ReadAllTextAsync(manifestPath, cancellationToken), ManifestJson);
        }
        catch (JsonException exception)
        {
            plugin.Error = $"connector.json is not valid: {exception.Message}";
            return;
        }

        if (manifest is null || string.IsNullOrWhiteSpace(manifest.Id) || string.IsNullOrWhiteSpace(manifest.Assembly) || string.IsNullOrWhiteSpace(manifest.SdkVersion))
        {
            plugin.Error = "connector.json needs id, name, version, kind, sdkVersion and assembly.";
            return;
        }

        plugin.Manifest = manifest;
        if (!Version.TryParse(manifest.SdkVersion, out var sdk) || sdk.Major != SdkInfo.Major)
        {
            plugin.Status = PluginStatus.Refused;
            plugin.Error = $"Built for connector SDK {manifest.SdkVersion}; this host provides SDK {SdkInfo.Version} (major version {SdkInfo.Major} is required).";
            return;
        }

        if (_plugins.Exists(p => p != plugin && p.Status == PluginStatus.Loaded && p.Manifest?.Id == manifest.Id))
        {
            plugin.Error = $"Another plugin with id '{manifest.Id}' is loaded already.";
            return;
        }

        var assemblyPath = Path.Combine(folder, manifest.Assembly);
        if (!File.Exists(assemblyPath))
        {
            plugin.Error = $"The assembly {manifest.Assembly} named by connector.json is missing.";
            return;
        }

        if (File.Exists(Path.Combine(folder, "Modulith.Connectors.Sdk.dll")))
        {
            plugin.Error = "The plugin folder contains its own copy of Modulith.Connectors.Sdk.dll; reference the SDK with Private=false so the host's copy is shared.";
            return;
        }

        // Not PreferSharedTypes: that would hand a plugin the host's copy of any library the host happens to load
        // (e.g. its Newtonsoft.Json), instead of the version the plugin was built with.
        var loader = PluginLoader.CreateFromAssemblyFile(assemblyPath, SharedTypes, config => config.PreferSharedTypes = false);
        plugin.Loader = loader;
        var assembly = loader.LoadDefaultAssembly();
        var registrars = assembly.GetTypes().Where(t => typeof(IConnectorRegistrar).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
        if (registrars.Count != 1)
        {
            plugin.Error = $"The assembly must contain exactly one IConnectorRegistrar; it has {registrars.Count}.";
            return;
        }

        var services = new ServiceCollection();
        services.AddSingleton(loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(clock);
        var registrar = (IConnectorRegistrar)Activator.CreateInstance(registrars[0])!;
        try
        {
            await RegisterWithDeadlineAsync(registrar, services, cancellationToken);
        }
        catch (TimeoutException)
        {
            plugin.Error = $"The registrar did not finish within {options.RegistrationTimeout.TotalSeconds:0.#} s.";
            return;
        }
        var provider = services.BuildServiceProvider();
        plugin.Services = provider;
        var expected = manifest.Kind == ConnectorKind.Platform ? (object?)provider.GetService<IPlatformConnector>() : provider.GetService<IChannelConnector>();
        if (expected is null)
        {
            plugin.Error = $"The registrar registered no {(manifest.Kind == ConnectorKind.Platform ? nameof(IPlatformConnector) : nameof(IChannelConnector))}.";
            return;
        }

        plugin.Status = PluginStatus.Loaded;
    }

    /// <summary>
    /// Runs the registrar on its own background thread with a deadline: a registrar that hangs cannot hold the host's
    /// start or a thread-pool thread (a hung thread cannot be stopped, but it is only that plugin's).
    /// </summary>
    private Task RegisterWithDeadlineAsync(IConnectorRegistrar registrar, ServiceCollection services, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                registrar.Register(services);
                done.TrySetResult();
            }
            catch (Exception exception)
            {
                done.TrySetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "plugin-registrar",
        };
        thread.Start();
        return done.Task.WaitAsync(options.RegistrationTimeout, clock, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No plugins folder at {Folder}; no connectors loaded")]
    private partial void LogNoPluginFolder(string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded connector {ConnectorId} {Version} from {Folder} (attempt {Attempt})")]
    private partial void LogLoaded(string connectorId, string version, string folder, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Folder} is {Status} after attempt {Attempt}: {Error}; next attempt at {NextRetryAt}")]
    private partial void LogNotLoaded(string folder, PluginStatus status, string? error, int attempt, DateTimeOffset? nextRetryAt);
}

/// <summary>Loads the plugins at start, before requests are served.</summary>
internal sealed class PluginStartup(PluginCatalog catalog) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => catalog.LoadAllAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Loads faulted plugins again with exponential back-off: a plugin that failed for a passing reason (a file being copied, a dependency not yet there) comes back without a restart.</summary>
internal sealed class PluginRetryService(PluginCatalog catalog, TimeProvider clock, ILogger<PluginRetryService> logger) : BackgroundService
{
    private static readonly TimeSpan LongestSleep = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sleep = LongestSleep;
            try
            {
                var next = await catalog.RetryFaultedAsync(stoppingToken);
                if (next is { } due)
                {
                    sleep = TimeSpan.FromTicks(Math.Clamp((due - clock.GetUtcNow()).Ticks, TimeSpan.FromMilliseconds(50).Ticks, LongestSleep.Ticks));
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Retrying faulted plugins failed");
            }

            try
            {
                await Task.Delay(sleep, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
