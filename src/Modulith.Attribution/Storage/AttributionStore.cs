using System.Globalization;
using System.Text.Json;
using Modulith.Attribution.Contracts;
using Modulith.Attribution.Models;
using Modulith.SharedKernel.Storage;

namespace Modulith.Attribution.Storage;

/// <summary>A stored touch.</summary>
internal sealed record StoredTouch(string CustomerId, DateTimeOffset At, string Channel, string? Source, string? Campaign);

/// <summary>A stored conversion.</summary>
internal sealed record StoredConversion(string Id, string CustomerId, string Kind, DateTimeOffset At, double Revenue, double? Margin);

/// <summary>One stored day of spend.</summary>
internal sealed record StoredSpend(DateOnly Day, string Channel, string Campaign, string Currency, decimal Amount);

/// <summary>A touch to record.</summary>
internal sealed record NewTouch(string WorkspaceId, string TouchId, string CustomerId, DateTimeOffset At, string Channel, string? Source, string? Medium, string? Campaign, string Kind);

internal sealed class AttributionStore
{
    private readonly Database database;
    private readonly GroupCommit<NewTouch> _touches;
    private readonly GroupCommit<(string WorkspaceId, StoredConversion Conversion)> _conversions;

    public AttributionStore(Database database)
    {
        this.database = database;
        _touches = new GroupCommit<NewTouch>(InsertTouchesAsync);
        _conversions = new GroupCommit<(string, StoredConversion)>(InsertConversionsAsync);
    }

    /// <summary>Records touches (idempotent by touch id); concurrent callers share one transaction.</summary>
    public Task AddTouchesAsync(IReadOnlyList<NewTouch> touches) => _touches.WriteAsync(touches);

    /// <summary>Records conversions (idempotent by conversion id); concurrent callers share one transaction.</summary>
    public Task AddConversionsAsync(string workspaceId, IReadOnlyList<StoredConversion> conversions) =>
        _conversions.WriteAsync(conversions.Select(c => (workspaceId, c)).ToList());

    private async Task InsertTouchesAsync(IReadOnlyList<NewTouch> touches)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var t in touches)
        {
            await using var command = connection.Command(
                "INSERT INTO attribution_touches (workspace_id, touch_id, customer_id, at, channel, source, medium, campaign, kind) " +
                "VALUES (@ws, @id, @c, @at, @channel, @source, @medium, @campaign, @kind) ON CONFLICT (workspace_id, touch_id) DO NOTHING", transaction)
                .With("ws", t.WorkspaceId).With("id", t.TouchId).With("c", t.CustomerId).With("at", t.At.ToUnixTimeMilliseconds()).With("channel", t.Channel)
                .With("source", t.Source).With("medium", t.Medium).With("campaign", t.Campaign).With("kind", t.Kind);
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private async Task InsertConversionsAsync(IReadOnlyList<(string WorkspaceId, StoredConversion Conversion)> conversions)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (workspaceId, c) in conversions)
        {
            await using var command = connection.Command(
                "INSERT INTO attribution_conversions (workspace_id, conversion_id, customer_id, kind, at, revenue, margin) " +
                "VALUES (@ws, @id, @c, @kind, @at, @revenue, @margin) ON CONFLICT (workspace_id, conversion_id) DO NOTHING", transaction)
                .With("ws", workspaceId).With("id", c.Id).With("c", c.CustomerId).With("kind", c.Kind).With("at", c.At.ToUnixTimeMilliseconds())
                .With("revenue", c.Revenue).With("margin", c.Margin);
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Conversions of a kind in [from, to); first_order means each customer's earliest order, when it falls in the period.</summary>
    public async Task<IReadOnlyList<StoredConversion>> ConversionsAsync(string workspaceId, string kind, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = kind == "first_order"
            ? """
              SELECT o.conversion_id, o.customer_id, o.kind, o.at, o.revenue, o.margin FROM attribution_conversions o
              WHERE o.workspace_id = @ws AND o.kind = 'order' AND o.at >= @from AND o.at < @to
                AND NOT EXISTS (SELECT 1 FROM attribution_conversions e WHERE e.workspace_id = o.workspace_id AND e.customer_id = o.customer_id
                                AND e.kind = 'order' AND (e.at < o.at OR (e.at = o.at AND e.conversion_id < o.conversion_id)))
              """
            : "SELECT conversion_id, customer_id, kind, at, revenue, margin FROM attribution_conversions WHERE workspace_id = @ws AND kind = @kind AND at >= @from AND at < @to";
        await using var command = connection.Command(sql).With("ws", workspaceId).With("kind", kind)
            .With("from", from.ToUnixTimeMilliseconds()).With("to", to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredConversion>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new StoredConversion(reader.GetString(0), reader.GetString(1), kind == "first_order" ? "first_order" : reader.GetString(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetDouble(5)));
        }

        return list;
    }

    /// <summary>Touches in [from, to) of every customer, by customer, oldest first.</summary>
    public async Task<Dictionary<string, List<StoredTouch>>> TouchesAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT customer_id, at, channel, source, campaign FROM attribution_touches WHERE workspace_id = @ws AND at >= @from AND at < @to ORDER BY customer_id, at, touch_id")
            .With("ws", workspaceId).With("from", from.ToUnixTimeMilliseconds()).With("to", to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var touches = new Dictionary<string, List<StoredTouch>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var customer = reader.GetString(0);
            if (!touches.TryGetValue(customer, out var list))
            {
                touches[customer] = list = [];
            }

            list.Add(new StoredTouch(customer, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetString(2), reader.NullableString(3), reader.NullableString(4)));
        }

        return touches;
    }

    /// <summary>Each given customer's first touch ever.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> FirstTouchesAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        var first = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using var connection = await database.OpenAsync(cancellationToken);
        foreach (var chunk in customerIds.Chunk(200))
        {
            await using var command = connection.CommandWithList(
                "SELECT customer_id, MIN(at) FROM attribution_touches WHERE workspace_id = @ws AND customer_id IN (@list) GROUP BY customer_id", chunk)
                .With("ws", workspaceId);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                first[reader.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
            }
        }

        return first;
    }

    public async Task SaveSpendAsync(string workspaceId, IReadOnlyList<StoredSpend> spend)
    {
        await using var connection = await database.OpenForWriteAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var s in spend)
        {
            await using var command = connection.Command(
                "INSERT INTO ad_spend (workspace_id, day, channel, campaign, currency, amount) VALUES (@ws, @day, @channel, @campaign, @currency, @amount) " +
                "ON CONFLICT (workspace_id, day, channel, campaign) DO UPDATE SET currency = excluded.currency, amount = excluded.amount", transaction)
                .With("ws", workspaceId).With("day", s.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).With("channel", s.Channel)
                .With("campaign", s.Campaign).With("currency", s.Currency).With("amount", (double)s.Amount);
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Spend of the days that overlap [from, to) (a day counts when its start is in the period).</summary>
    public async Task<IReadOnlyList<StoredSpend>> SpendAsync(string workspaceId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var first = DateOnly.FromDateTime(from.UtcDateTime);
        if (first.ToDateTime(TimeOnly.MinValue) < from.UtcDateTime)
        {
            first = first.AddDays(1);
        }

        var last = DateOnly.FromDateTime(to.UtcDateTime.AddTicks(-1));
        await using var command = connection.Command("SELECT day, channel, campaign, currency, amount FROM ad_spend WHERE workspace_id = @ws AND day >= @first AND day <= @last ORDER BY day, channel, campaign")
            .With("ws", workspaceId).With("first", first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).With("last", last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredSpend>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new StoredSpend(DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                Math.Round((decimal)reader.GetDouble(4), 2)));
        }

        return list;
    }

    public async Task<ModelSettings> SettingsAsync(string workspaceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT body FROM attribution_settings WHERE workspace_id = @ws").With("ws", workspaceId);
        if (await command.ExecuteScalarAsync(cancellationToken) is not string body || JsonSerializer.Deserialize<StoredSettings>(body) is not { } stored)
        {
            return ModelSettings.Default;
        }

        return new ModelSettings(TimeSpan.FromSeconds(stored.LookbackSeconds), stored.PositionFirst, stored.PositionLast, TimeSpan.FromSeconds(stored.HalfLifeSeconds));
    }

    public async Task SaveSettingsAsync(string workspaceId, ModelSettings settings)
    {
        var body = JsonSerializer.Serialize(new StoredSettings(settings.Lookback.TotalSeconds, settings.PositionFirst, settings.PositionLast, settings.HalfLife.TotalSeconds));
        await using var connection = await database.OpenForWriteAsync();
        await using var command = connection.Command(
            "INSERT INTO attribution_settings (workspace_id, body) VALUES (@ws, @body) ON CONFLICT (workspace_id) DO UPDATE SET body = excluded.body")
            .With("ws", workspaceId).With("body", body);
        await command.ExecuteNonQueryAsync();
    }

    private sealed record StoredSettings(double LookbackSeconds, double PositionFirst, double PositionLast, double HalfLifeSeconds);
}
