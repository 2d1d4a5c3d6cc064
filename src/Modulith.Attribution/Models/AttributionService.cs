using Modulith.Attribution.Contracts;
using Modulith.Attribution.Storage;

namespace Modulith.Attribution.Models;

/// <summary>Builds the period's conversion paths from the stored touches and conversions and runs a model over them.</summary>
internal sealed class AttributionService(AttributionStore store)
{
    public const string NoCampaign = "(none)";

    public static readonly IReadOnlyList<string> ConversionKinds = ["order", "first_order", "mql", "sql"];

    public async Task<AttributionResult> AttributeAsync(string workspaceId, string model, DateTimeOffset from, DateTimeOffset to, bool byCampaign, string conversion, CancellationToken cancellationToken)
    {
        var (paths, nonConverting, _) = await PathsAsync(workspaceId, from, to, conversion, cancellationToken);
        return Result(model, from, to, conversion, paths, nonConverting, byCampaign, await store.SettingsAsync(workspaceId, cancellationToken));
    }

    public async Task<IReadOnlyList<AttributionResult>> CompareAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, bool byCampaign, string conversion, CancellationToken cancellationToken)
    {
        var (paths, nonConverting, _) = await PathsAsync(workspaceId, from, to, conversion, cancellationToken);
        var settings = await store.SettingsAsync(workspaceId, cancellationToken);
        return AttributionModels.All.Select(model => Result(model, from, to, conversion, paths, nonConverting, byCampaign, settings)).ToList();
    }

    public static Func<Touch, string> KeyOf(bool byCampaign) => byCampaign ? t => t.Campaign ?? NoCampaign : t => t.Channel;

    internal static AttributionResult Result(string model, DateTimeOffset from, DateTimeOffset to, string conversion,
        IReadOnlyList<ConversionPath> paths, IReadOnlyList<IReadOnlyList<Touch>> nonConverting, bool byCampaign, ModelSettings settings)
    {
        var credits = CreditModels.Run(model, paths, nonConverting, KeyOf(byCampaign), settings)
            .Where(c => c.Value.Conversions > 1e-12 || c.Value.Revenue > 1e-12)
            .OrderByDescending(c => c.Value.Conversions).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new AttributionCredit(byCampaign ? null : c.Key, byCampaign ? c.Key : null, Math.Round(c.Value.Conversions, 4), Math.Round(c.Value.Revenue, 2)))
            .ToList();
        return new AttributionResult(model, from, to, conversion, paths.Count, Math.Round(paths.Sum(p => p.Revenue), 2), byCampaign ? null : credits, byCampaign ? credits : null);
    }

    /// <summary>
    /// Each conversion of the period with its customer's touches in the lookback window before it; and, for Markov, the
    /// touches in the period of the customers without such a conversion (paths ending in the null state).
    /// </summary>
    public async Task<(List<ConversionPath> Paths, List<IReadOnlyList<Touch>> NonConverting, ModelSettings Settings)> PathsAsync(
        string workspaceId, DateTimeOffset from, DateTimeOffset to, string conversion, CancellationToken cancellationToken)
    {
        var (settings, touches) = await TouchesAsync(workspaceId, from, to, cancellationToken);
        var (paths, nonConverting) = Build(await store.ConversionsAsync(workspaceId, conversion, from, to, cancellationToken), touches, settings, from);
        return (paths, nonConverting, settings);
    }

    /// <summary>The settings and every touch from one lookback before the period to its end, by customer.</summary>
    public async Task<(ModelSettings Settings, Dictionary<string, List<StoredTouch>> Touches)> TouchesAsync(
        string workspaceId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var settings = await store.SettingsAsync(workspaceId, cancellationToken);
        return (settings, await store.TouchesAsync(workspaceId, from - settings.Lookback, to, cancellationToken));
    }

    /// <summary>The paths of the given conversions over touches read by <see cref="TouchesAsync"/>.</summary>
    public static (List<ConversionPath> Paths, List<IReadOnlyList<Touch>> NonConverting) Build(
        IReadOnlyList<StoredConversion> conversions, Dictionary<string, List<StoredTouch>> touches, ModelSettings settings, DateTimeOffset from)
    {
        var paths = new List<ConversionPath>(conversions.Count);
        foreach (var c in conversions.OrderBy(c => c.At).ThenBy(c => c.Id, StringComparer.Ordinal))
        {
            var start = c.At - settings.Lookback;
            var path = touches.TryGetValue(c.CustomerId, out var list)
                ? list.Where(t => t.At >= start && t.At <= c.At).Select(t => new Touch(t.At, t.Channel, t.Campaign)).ToList()
                : [];
            paths.Add(new ConversionPath(c.Id, c.CustomerId, c.At, c.Revenue, path));
        }

        var converted = conversions.Select(c => c.CustomerId).ToHashSet(StringComparer.Ordinal);
        var nonConverting = touches
            .Where(t => !converted.Contains(t.Key))
            .Select(t => (IReadOnlyList<Touch>)t.Value.Where(x => x.At >= from).Select(x => new Touch(x.At, x.Channel, x.Campaign)).ToList())
            .Where(p => p.Count > 0)
            .ToList();
        return (paths, nonConverting);
    }
}
