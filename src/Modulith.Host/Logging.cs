using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Modulith.Host;

internal static class Logging
{
    public static WebApplicationBuilder AddModulithLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, configuration) => configuration
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
            // Orleans places every new activation through a Polly retry pipeline, whose telemetry logs each successful
            // attempt at Information: two lines per new grain, thousands a second under load. Retries are warnings.
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .Enrich.With<ModuleEnricher>()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Module} {Message:lj} {Properties:j}{NewLine}{Exception}"));
        return builder;
    }
}

/// <summary>Adds the module name (Customers, Ingestion ...) from the logger's namespace.</summary>
internal sealed class ModuleEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue("SourceContext", out var value) && value is ScalarValue { Value: string source })
        {
            var parts = source.Split('.');
            var module = parts.Length > 1 && parts[0] == "Modulith" ? parts[1] : parts[0];
            logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("Module", module));
        }
    }
}
