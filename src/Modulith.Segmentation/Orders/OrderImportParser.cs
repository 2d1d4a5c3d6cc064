using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;

namespace Modulith.Segmentation.Orders;

/// <summary>One historical order of an import, validated.</summary>
internal sealed record ImportedOrder(
    int Line, string OrderId, DateTimeOffset PlacedAt, decimal Revenue, string? Currency, decimal? Margin,
    string? UserId, string? Email, string? Phone, string? AnonymousId);

/// <summary>
/// Reads an order history as CSV (a header row) or JSON lines. Column or property names are matched without case and
/// without <c>_</c>: order_id, placed_at (ISO 8601 date or time, or yyyyMMdd), revenue, currency, margin, and at least
/// one of user_id, email, phone, anonymous_id.
/// </summary>
internal static class OrderImportParser
{
    public const int MaxErrors = 20;
    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyyMMdd"];

    public static (List<ImportedOrder> Orders, List<string> Errors) ParseCsv(TextReader text, int maxRows)
    {
        var orders = new List<ImportedOrder>();
        var errors = new List<string>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            PrepareHeaderForMatch = args => Key(args.Header),
            MissingFieldFound = null,
            BadDataFound = null,
            DetectDelimiter = true,
            TrimOptions = TrimOptions.Trim,
        };
        using var csv = new CsvReader(text, configuration);
        if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
        {
            errors.Add("The CSV has no header row.");
            return (orders, errors);
        }

        var columns = header.Select(Key).ToHashSet(StringComparer.Ordinal);
        foreach (var required in new[] { "orderid", "placedat", "revenue" })
        {
            if (!columns.Contains(required))
            {
                errors.Add($"The CSV header has no '{required switch { "orderid" => "order_id", "placedat" => "placed_at", _ => required }}' column.");
            }
        }

        if (!columns.Overlaps(["userid", "email", "phone", "anonymousid"]))
        {
            errors.Add("The CSV header needs a customer column: user_id, email, phone or anonymous_id.");
        }

        if (errors.Count > 0)
        {
            return (orders, errors);
        }

        while (csv.Read())
        {
            var line = csv.Parser.RawRow;
            string? Field(string name) => columns.Contains(name) && csv.TryGetField<string>(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
            Accept(line, Field, orders, errors, maxRows);
            if (errors.Count >= MaxErrors)
            {
                break;
            }
        }

        if (orders.Count == 0 && errors.Count == 0)
        {
            errors.Add("The CSV has no order rows.");
        }

        return (orders, errors);
    }

    public static (List<ImportedOrder> Orders, List<string> Errors) ParseJsonLines(TextReader text, int maxRows)
    {
        var orders = new List<ImportedOrder>();
        var errors = new List<string>();
        var line = 0;
        while (text.ReadLine() is { } raw)
        {
            line++;
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }

            Dictionary<string, string> fields;
            try
            {
                using var document = JsonDocument.Parse(raw);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"Line {line}: each line must be a JSON object.");
                    continue;
                }

                fields = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    var value = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number => property.Value.GetRawText(),
                        _ => null,
                    };
                    if (!string.IsNullOrWhiteSpace(value))
                    {
                        fields[Key(property.Name)] = value.Trim();
                    }
                }
            }
            catch (JsonException exception)
            {
                errors.Add($"Line {line}: not JSON ({exception.Message.Split('.')[0]}).");
                if (errors.Count >= MaxErrors)
                {
                    break;
                }

                continue;
            }

            Accept(line, name => fields.GetValueOrDefault(name), orders, errors, maxRows);
            if (errors.Count >= MaxErrors)
            {
                break;
            }
        }

        if (orders.Count == 0 && errors.Count == 0)
        {
            errors.Add("The body has no orders.");
        }

        return (orders, errors);
    }

    private static void Accept(int line, Func<string, string?> field, List<ImportedOrder> orders, List<string> errors, int maxRows)
    {
        if (orders.Count >= maxRows)
        {
            var tooMany = $"More than {maxRows:N0} orders in one import: split the file.";
            if (!errors.Contains(tooMany))
            {
                errors.Add(tooMany);
            }

            return;
        }

        var problems = new List<string>();
        var orderId = field("orderid");
        if (orderId is null || orderId.Length > 200)
        {
            problems.Add("'order_id' is required (up to 200 characters)");
        }

        var placed = field("placedat");
        DateTimeOffset at = default;
        if (placed is null || !TryParseTime(placed, out at))
        {
            problems.Add($"'placed_at' must be an ISO 8601 date or time or yyyyMMdd{(placed is null ? string.Empty : $" (got '{Short(placed)}')")}");
        }

        var revenueText = field("revenue");
        decimal revenue = 0;
        if (revenueText is null || !decimal.TryParse(revenueText, NumberStyles.Number, CultureInfo.InvariantCulture, out revenue) || revenue < 0)
        {
            problems.Add($"'revenue' must be a number of at least 0{(revenueText is null ? string.Empty : $" (got '{Short(revenueText)}')")}");
        }

        decimal? margin = null;
        if (field("margin") is { } marginText)
        {
            if (decimal.TryParse(marginText, NumberStyles.Number, CultureInfo.InvariantCulture, out var parsed))
            {
                margin = parsed;
            }
            else
            {
                problems.Add($"'margin' must be a number (got '{Short(marginText)}')");
            }
        }

        var currency = field("currency");
        if (currency is not null && (currency.Length != 3 || !currency.All(char.IsAsciiLetter)))
        {
            problems.Add($"'currency' must be an ISO 4217 code such as PLN (got '{Short(currency)}')");
        }

        var (userId, email, phone, anonymousId) = (field("userid"), field("email"), field("phone"), field("anonymousid"));
        if (userId is null && email is null && phone is null && anonymousId is null)
        {
            problems.Add("a customer is required: user_id, email, phone or anonymous_id");
        }

        if (email is not null && !email.Contains('@', StringComparison.Ordinal))
        {
            problems.Add($"'email' is not an email address (got '{Short(email)}')");
        }

        if (problems.Count > 0)
        {
            errors.Add($"Line {line}: {string.Join("; ", problems)}.");
            return;
        }

        orders.Add(new ImportedOrder(line, orderId!, at, revenue, currency?.ToUpperInvariant(), margin, userId, email, phone, anonymousId));
    }

    internal static bool TryParseTime(string text, out DateTimeOffset at)
    {
        if (DateOnly.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            at = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at)
            && text.Length >= 10 && at.Year is >= 1970 and <= 9999;
    }

    private static string Key(string name) => name.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).Trim().ToLowerInvariant();

    private static string Short(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
