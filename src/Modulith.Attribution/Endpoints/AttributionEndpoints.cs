using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Attribution.Contracts;
using Modulith.Attribution.Kpis;
using Modulith.Attribution.Models;
using Modulith.Attribution.Storage;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Time;
using Modulith.SharedKernel.Web;

namespace Modulith.Attribution.Endpoints;

internal static partial class AttributionEndpoints
{
    private const int MaxSpendRows = 100_000;
    private const long MaxSpendBytes = 16L * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        var attribution = app.MapGroup("/api/attribution").WithTags("Attribution and KPIs");
        attribution.MapGet("/", AttributeAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Credit for the conversions in [from, to) by one model: first_touch, last_touch, last_non_direct, linear, position_based, time_decay, markov, shapley. by=channel (default) or campaign; conversion=order (default), first_order, mql or sql; format=csv for CSV.")
            .Produces<AttributionResult>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        attribution.MapGet("/models", CompareAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Every model side by side for the same period and conversions.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        attribution.MapGet("/settings", SettingsAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's lookback window, position-based shares and time-decay half-life.")
            .ProducesAuthProblems();
        attribution.MapPut("/settings", PutSettingsAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Change the lookback window (ISO 8601, up to P365D), position-based first and last shares (summing to at most 1) and the time-decay half-life.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();

        var spend = app.MapGroup("/api/ad-spend").WithTags("Attribution and KPIs");
        spend.MapPost("/", PostSpendAsync).RequireAuthorization(Policies.WriteCustomers)
            .Accepts<AdSpendEntry[]>("application/json", "text/csv")
            .WithSummary("Record ad spend: one entry or an array as JSON, or CSV with a header (channel, campaign, day, amount, currency). Every row is validated first; a day, channel and campaign sent again replaces the earlier amount.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesAuthProblems();
        spend.MapGet("/", ListSpendAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Ad spend of the days in [from, to).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();

        app.MapGroup("/api/kpis").WithTags("Attribution and KPIs").MapGet("/", KpisAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The shared KPIs of [from, to) (docs/kpis.md): CAC, CLV, ROAS per model, conversion rate by source, time to purchase, MQL -> SQL -> customer rates and SLA attainment. Filters: channel, campaign; model (for CAC, default last_non_direct); format=csv.")
            .Produces<KpiReport>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
    }

    private static async Task<IResult> AttributeAsync(
        string? model, string? from, string? to, string? by, string? conversion, string? format, ClaimsPrincipal user, AttributionService service, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (model is null || !AttributionModels.All.Contains(model))
        {
            return Problems.BadRequest($"'model' must be one of {string.Join(", ", AttributionModels.All)}.");
        }

        if (Query(from, to, by, conversion, format, clock) is { Error: { } error })
        {
            return Problems.BadRequest(error);
        }

        var q = Query(from, to, by, conversion, format, clock);
        var result = await service.AttributeAsync(user.WorkspaceId(), model, q.From, q.To, q.ByCampaign, q.Conversion, cancellationToken);
        return q.Csv ? TypedResults.Text(Csv([result]), "text/csv") : TypedResults.Ok(result);
    }

    private static async Task<IResult> CompareAsync(
        string? from, string? to, string? by, string? conversion, string? format, ClaimsPrincipal user, AttributionService service, TimeProvider clock, CancellationToken cancellationToken)
    {
        var q = Query(from, to, by, conversion, format, clock);
        if (q.Error is { } error)
        {
            return Problems.BadRequest(error);
        }

        var results = await service.CompareAsync(user.WorkspaceId(), q.From, q.To, q.ByCampaign, q.Conversion, cancellationToken);
        return q.Csv ? TypedResults.Text(Csv(results), "text/csv") : TypedResults.Ok(results);
    }

    private static string Csv(IEnumerable<AttributionResult> results) => CsvText.Write(
        ["model", "conversion", "key", "conversions", "revenue"],
        results.SelectMany(result => (result.Channels ?? result.Campaigns ?? [])
            .Select(credit => new object?[] { result.Model, result.Conversion, credit.Channel ?? credit.Campaign, credit.Conversions, credit.Revenue })));

    private sealed record QueryParts(DateTimeOffset From, DateTimeOffset To, bool ByCampaign, string Conversion, bool Csv, string? Error);

    private static QueryParts Query(string? from, string? to, string? by, string? conversion, string? format, TimeProvider clock)
    {
        var (start, end, error) = Period(from, to, clock);
        if (error is null && by is not (null or "channel" or "campaign"))
        {
            error = "'by' must be channel or campaign.";
        }

        if (error is null && conversion is not null && !AttributionService.ConversionKinds.Contains(conversion))
        {
            error = $"'conversion' must be one of {string.Join(", ", AttributionService.ConversionKinds)}.";
        }

        if (error is null && format is not (null or "json" or "csv"))
        {
            error = "'format' must be json or csv.";
        }

        return new QueryParts(start, end, by == "campaign", conversion ?? "order", format == "csv", error);
    }

    private static (DateTimeOffset From, DateTimeOffset To, string? Error) Period(string? from, string? to, TimeProvider clock) => ReportPeriod.Parse(from, to, clock);

    private static async Task<Ok<AttributionSettings>> SettingsAsync(ClaimsPrincipal user, AttributionStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToSettings(await store.SettingsAsync(user.WorkspaceId(), cancellationToken)));

    private static AttributionSettings ToSettings(ModelSettings s) =>
        new(IsoDuration.Format(s.Lookback), s.PositionFirst, s.PositionLast, IsoDuration.Format(s.HalfLife));

    private static async Task<Results<Ok<AttributionSettings>, ProblemHttpResult>> PutSettingsAsync(AttributionSettings body, ClaimsPrincipal user, AttributionStore store)
    {
        var defaults = ModelSettings.Default;
        var errors = new List<string>();
        TimeSpan Duration(string? text, string name, TimeSpan fallback)
        {
            if (text is null)
            {
                return fallback;
            }

            if (IsoDuration.Parse(text) is { } value && value > TimeSpan.Zero && value <= TimeSpan.FromDays(365))
            {
                return value;
            }

            errors.Add($"'{name}' must be an ISO 8601 duration more than zero and at most P365D.");
            return fallback;
        }

        var settings = new ModelSettings(Duration(body.Lookback, "lookback", defaults.Lookback), body.PositionFirst ?? defaults.PositionFirst,
            body.PositionLast ?? defaults.PositionLast, Duration(body.HalfLife, "halfLife", defaults.HalfLife));
        if (settings.PositionFirst is < 0 or > 1 || settings.PositionLast is < 0 or > 1 || settings.PositionFirst + settings.PositionLast > 1 + 1e-9)
        {
            errors.Add("'positionFirst' and 'positionLast' must be between 0 and 1 and sum to at most 1.");
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest(string.Join(" ", errors), new Dictionary<string, object?> { ["errors"] = errors });
        }

        await store.SaveSettingsAsync(user.WorkspaceId(), settings);
        return TypedResults.Ok(ToSettings(settings));
    }

    [GeneratedRegex("^[a-z0-9_]{1,64}$")]
    private static partial Regex ChannelPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();

    private static async Task<Results<Ok<AdSpendStored>, ProblemHttpResult>> PostSpendAsync(HttpContext context, ClaimsPrincipal user, AttributionStore store)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType is not ("application/json" or "text/csv"))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type",
                detail: "Send ad spend as application/json (an entry or an array) or text/csv with a header row.");
        }

        if (context.Request.ContentLength > MaxSpendBytes)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload Too Large", detail: $"Ad spend may be up to {MaxSpendBytes / 1024 / 1024} MB per request.");
        }

        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        List<AdSpendEntry> entries;
        try
        {
            entries = mediaType == "text/csv" ? ReadCsv(text) : ReadJson(text);
        }
        catch (Exception exception) when (exception is JsonException or CsvHelperException or FormatException)
        {
            return Problems.BadRequest($"The body could not be read: {exception.Message.Split('\n')[0]}");
        }

        if (entries.Count == 0 || entries.Count > MaxSpendRows)
        {
            return Problems.BadRequest($"Send between 1 and {MaxSpendRows:N0} entries.");
        }

        var errors = new List<string>();
        var rows = new List<StoredSpend>();
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var where = mediaType == "text/csv" ? $"line {i + 2}" : $"entry {i}";
            var problems = new List<string>();
            if (e.Channel is null || !ChannelPattern().IsMatch(e.Channel))
            {
                problems.Add("'channel' is required: lower-case letters, digits and '_' (paid_search, paid_social, display ...)");
            }

            if (!DateOnly.TryParseExact(e.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                problems.Add("'day' must be yyyy-MM-dd");
            }

            if (e.Amount is not { } amount || amount < 0 || amount > 1_000_000_000)
            {
                problems.Add("'amount' must be a number from 0 to 1,000,000,000");
            }

            if (e.Currency is null || !CurrencyPattern().IsMatch(e.Currency.ToUpperInvariant()))
            {
                problems.Add("'currency' must be an ISO 4217 code");
            }

            if (e.Campaign is { Length: > 200 })
            {
                problems.Add("'campaign' may have up to 200 characters");
            }

            if (problems.Count > 0)
            {
                if (errors.Count < 20)
                {
                    errors.Add($"{where}: {string.Join("; ", problems)}.");
                }

                continue;
            }

            rows.Add(new StoredSpend(day, e.Channel!, e.Campaign ?? string.Empty, e.Currency!.ToUpperInvariant(), Math.Round(e.Amount!.Value, 2)));
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest($"Nothing was stored: {errors[0]}", new Dictionary<string, object?> { ["errors"] = errors });
        }

        var duplicate = rows.GroupBy(r => (r.Day, r.Channel, r.Campaign)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            return Problems.BadRequest($"Nothing was stored: {duplicate.Key.Day:yyyy-MM-dd}, {duplicate.Key.Channel}, '{duplicate.Key.Campaign}' appears more than once.");
        }

        await store.SaveSpendAsync(user.WorkspaceId(), rows);
        return TypedResults.Ok(new AdSpendStored(rows.Count));
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static List<AdSpendEntry> ReadJson(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.ValueKind == JsonValueKind.Array
            ? document.RootElement.Deserialize<List<AdSpendEntry>>(Json) ?? []
            : [document.RootElement.Deserialize<AdSpendEntry>(Json) ?? throw new JsonException("empty")];
    }

    private static List<AdSpendEntry> ReadCsv(string text)
    {
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = args => args.Header.Trim().ToLowerInvariant(),
            MissingFieldFound = null,
            HeaderValidated = null,
        };
        using var csv = new CsvReader(new StringReader(text), configuration);
        var entries = new List<AdSpendEntry>();
        csv.Read();
        csv.ReadHeader();
        while (csv.Read())
        {
            var amount = csv.GetField("amount");
            entries.Add(new AdSpendEntry(
                Empty(csv.GetField("channel")), Empty(csv.GetField("campaign")), Empty(csv.GetField("day")),
                decimal.TryParse(amount, NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed) ? parsed : null, Empty(csv.GetField("currency"))));
        }

        return entries;
    }

    private static string? Empty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static async Task<Results<Ok<IReadOnlyList<AdSpendEntry>>, ProblemHttpResult>> ListSpendAsync(
        string? from, string? to, ClaimsPrincipal user, AttributionStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (start, end, error) = Period(from, to, clock);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var rows = await store.SpendAsync(user.WorkspaceId(), start, end, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AdSpendEntry>>(rows
            .Select(r => new AdSpendEntry(r.Channel, r.Campaign.Length == 0 ? null : r.Campaign, r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Amount, r.Currency)).ToList());
    }

    private static async Task<IResult> KpisAsync(
        string? from, string? to, string? channel, string? campaign, string? model, string? format, ClaimsPrincipal user, KpiCalculator kpis, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (start, end, error) = Period(from, to, clock);
        error ??= model is not null && !AttributionModels.All.Contains(model) ? $"'model' must be one of {string.Join(", ", AttributionModels.All)}." : null;
        error ??= format is not (null or "json" or "csv") ? "'format' must be json or csv." : null;
        error ??= channel is { Length: > 64 } || campaign is { Length: > 200 } ? "'channel' or 'campaign' is too long." : null;
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var report = await kpis.ComputeAsync(user.WorkspaceId(), start, end, channel, campaign, model ?? "last_non_direct", cancellationToken);
        return format == "csv" ? TypedResults.Text(KpiCsv.Write(report), "text/csv") : TypedResults.Ok(report);
    }
}

/// <summary>The KPI report as CSV: one row per value (kpi, key, value).</summary>
internal static class KpiCsv
{
    public static string Write(KpiReport r)
    {
        var rows = new List<object?[]>();
        void Row(string kpi, string? key, object? value) => rows.Add([kpi, key, value]);
        Row("spend", r.Currency, r.Spend);
        Row("new_customers", null, r.NewCustomers);
        Row("revenue", null, r.Revenue);
        Row("cac_blended", null, r.Cac.Blended);
        foreach (var c in r.Cac.Channels)
        {
            Row("cac", c.Channel ?? c.Campaign, c.Cac);
        }

        Row("clv_average", r.Clv.Basis, r.Clv.Average);
        foreach (var model in r.Roas)
        {
            Row("roas_" + model.Model, "total", model.Total);
            foreach (var c in model.Channels)
            {
                Row("roas_" + model.Model, c.Channel ?? c.Campaign, c.Roas);
            }
        }

        foreach (var c in r.ConversionRates)
        {
            Row("conversion_rate", $"{c.Channel}/{c.Source}", c.Rate);
        }

        Row("time_to_purchase_median_days", null, r.TimeToPurchase.MedianDays);
        Row("time_to_purchase_p90_days", null, r.TimeToPurchase.P90Days);
        foreach (var (bucket, count) in r.TimeToPurchase.Distribution)
        {
            Row("time_to_purchase", bucket, count);
        }

        Row("mqls", null, r.Funnel.Mqls);
        Row("sqls", null, r.Funnel.Sqls);
        Row("customers_from_leads", null, r.Funnel.Customers);
        Row("mql_to_sql", null, r.Funnel.MqlToSql);
        Row("sql_to_customer", null, r.Funnel.SqlToCustomer);
        Row("sla_attainment", null, r.Funnel.SlaAttainment);
        Row("speed_to_lead_median_seconds", null, r.Funnel.MedianSecondsToContact);
        return CsvText.Write(["kpi", "key", "value"], rows);
    }
}
