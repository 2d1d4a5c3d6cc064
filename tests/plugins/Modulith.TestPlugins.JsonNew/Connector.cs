using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;
using Newtonsoft.Json;

namespace Modulith.TestPlugins.JsonNew;

public sealed class Registrar : IConnectorRegistrar
{
    public void Register(IServiceCollection services) => services.AddSingleton<IChannelConnector, Connector>();
}

/// <summary>Answers, as its health detail, which Newtonsoft.Json file it runs with, and serialises with it.</summary>
internal sealed class Connector : IChannelConnector
{
    public ChannelCapabilities Capabilities { get; } = new("test", false, 1);

    public Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new DeliveryResult(DeliveryStatus.Sent, JsonConvert.SerializeObject(new { message.IdempotencyKey }), null));

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(new HealthReport(true, FileVersionInfo.GetVersionInfo(typeof(JsonConvert).Assembly.Location).FileVersion ?? "unknown"));
}
