using Microsoft.Extensions.DependencyInjection;

namespace Modulith.Connectors.Sdk;

/// <summary>
/// A plugin's entry point. The host creates it with its parameterless constructor and calls <see cref="Register"/>
/// inside a guard: if it throws, the plugin is marked faulted and the host and other plugins go on.
/// </summary>
public interface IConnectorRegistrar
{
    /// <summary>Adds the connector's services: an <see cref="IPlatformConnector"/> or an <see cref="IChannelConnector"/>, and what they need.</summary>
    void Register(IServiceCollection services);
}
