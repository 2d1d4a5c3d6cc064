using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;

namespace Modulith.TestPlugins.Throwing;

public sealed class Registrar : IConnectorRegistrar
{
    public void Register(IServiceCollection services) => throw new InvalidOperationException("This plugin fails on purpose when it starts.");
}
