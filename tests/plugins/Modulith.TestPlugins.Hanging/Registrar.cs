using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.TestPlugins.Hanging;

public sealed class Registrar : IConnectorRegistrar
{
    // Never returns: the host must give up on it after its registration deadline.
    public void Register(IServiceCollection services) => Thread.Sleep(Timeout.Infinite);
}
