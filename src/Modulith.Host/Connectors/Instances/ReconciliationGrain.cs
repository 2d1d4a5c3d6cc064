using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors.Webhooks;
using Modulith.Ingestion.Contracts;

namespace Modulith.Host.Connectors.Instances;

/// <summary>
/// Reconciles one platform connector instance: pages through the connector's backfill from the stored cursor and
/// ingests what it finds (deduplicated like webhooks). One activation in the cluster per instance; a durable reminder
/// runs it periodically, so a platform that does not retry its webhooks (WooCommerce) loses nothing.
/// </summary>
public interface IReconciliationGrain : IGrainWithStringKey
{
    /// <summary>Registers the periodic reconciliation (idempotent).</summary>
    Task StartAsync();

    /// <summary>Reconciles now; answers how many events were ingested and the cursor reached.</summary>
    Task<ReconcileResult> ReconcileAsync();
}

/// <summary>The outcome of a reconciliation.</summary>
/// <param name="Events">Events ingested (redelivered ones are deduplicated downstream).</param>
/// <param name="Cursor">The cursor stored for the next run.</param>
/// <param name="Error">Why it stopped early, if it did.</param>
[GenerateSerializer, Immutable, Alias("modulith.connectors.ReconcileResult")]
public sealed record ReconcileResult([property: Id(0)] int Events, [property: Id(1)] string? Cursor, [property: Id(2)] string? Error);

/// <summary>Reconciliation settings (<c>Modulith:Connectors</c>).</summary>
public sealed class ReconciliationOptions
{
    /// <summary>How often each platform instance is reconciled (at least one minute: reminders are durable, not precise).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class ReconciliationGrain(
    ConnectorInstanceStore store,
    PluginCatalog catalog,
    IEventIngestion ingestion,
    PlatformEventProcessor processor,
    Microsoft.Extensions.Options.IOptions<ReconciliationOptions> options,
    ILogger<ReconciliationGrain> logger) : Grain, IReconciliationGrain, IRemindable
{
    private const int MaxPagesPerRun = 50;

    public async Task StartAsync()
    {
        var period = options.Value.ReconcileInterval < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : options.Value.ReconcileInterval;
        await this.RegisterOrUpdateReminder("reconcile", period, period);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var result = await ReconcileAsync();
        if (result.Error is not null)
        {
            logger.LogWarning("Reconciliation of {InstanceId} stopped: {Error}", this.GetPrimaryKeyString(), result.Error);
        }
    }

    public async Task<ReconcileResult> ReconcileAsync()
    {
        var instanceId = this.GetPrimaryKeyString();
        var instance = await store.ResolveAsync(instanceId, CancellationToken.None);
        if (instance is null)
        {
            if (await this.GetReminder("reconcile") is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            return new ReconcileResult(0, null, "The instance no longer exists.");
        }

        var (connectorId, settings) = instance.Value;
        var plugin = catalog.Plugins.FirstOrDefault(p => p.Manifest?.Id == connectorId && p.Status == PluginStatus.Loaded);
        if (plugin?.Platform is not { } connector)
        {
            return new ReconcileResult(0, null, $"The connector '{connectorId}' is not loaded.");
        }

        var cursor = await store.GetCursorAsync(instanceId, CancellationToken.None);
        var total = 0;
        for (var page = 0; page < MaxPagesPerRun; page++)
        {
            BackfillPage result;
            try
            {
                result = await plugin.Resilience.ExecuteAsync(
                    static async (state, token) => await state.connector.BackfillAsync(state.settings, state.cursor, token),
                    (connector, settings, cursor),
                    CancellationToken.None);
            }
            catch (Exception exception)
            {
                return new ReconcileResult(total, cursor, $"{exception.GetType().Name}: {exception.Message}");
            }

            if (result.Events.Count == 0)
            {
                break;
            }

            var messages = await processor.PrepareAsync(connectorId, instanceId, settings.WorkspaceId, result.Events, CancellationToken.None);
            var error = await ingestion.IngestAsync(settings.WorkspaceId, messages, CancellationToken.None);
            if (error is not null)
            {
                return new ReconcileResult(total, cursor, error);
            }

            total += messages.Count;
            if (result.NextCursor == cursor)
            {
                break;
            }

            cursor = result.NextCursor;
            await store.SetCursorAsync(instanceId, cursor, CancellationToken.None);
        }

        return new ReconcileResult(total, cursor, null);
    }
}
