using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.TestPlugins.Throwing;

/// <summary>Throws when it starts, until a file named <c>healed</c> appears in its folder (for the load-retry test).</summary>
public sealed class Registrar : IConnectorRegistrar
{
    public void Register(IServiceCollection services)
    {
        var folder = Path.GetDirectoryName(typeof(Registrar).Assembly.Location)!;
        if (!File.Exists(Path.Combine(folder, "healed")))
        {
            throw new InvalidOperationException("This plugin fails on purpose when it starts.");
        }

        services.AddSingleton<IChannelConnector, Connector>();
    }
}

internal sealed class Connector : IChannelConnector
{
    public ChannelCapabilities Capabilities { get; } = new("test", false, 10);

    public Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new DeliveryResult(DeliveryStatus.Sent, message.IdempotencyKey, null));

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(true, "healed"));
}
