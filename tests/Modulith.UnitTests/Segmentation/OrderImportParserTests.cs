using Modulith.Segmentation.Orders;

namespace Modulith.UnitTests.Segmentation;

public sealed class OrderImportParserTests
{
    [Fact]
    public void Csv_headers_match_without_case_or_underscores_and_quoted_fields_keep_their_commas()
    {
        var csv = "Order-ID,User_Id,PLACED_AT,Revenue,currency,margin\n\"A,1\",u1,19970101,29.33,usd,\n A-2 ,u1,1997-01-18T10:00:00+02:00,10,,3.5\n";
        var (orders, errors) = OrderImportParser.ParseCsv(new StringReader(csv), 10);

        Assert.Empty(errors);
        Assert.Equal(2, orders.Count);
        Assert.Equal("A,1", orders[0].OrderId);
        Assert.Equal(new DateTimeOffset(1997, 1, 1, 0, 0, 0, TimeSpan.Zero), orders[0].PlacedAt);
        Assert.Equal("USD", orders[0].Currency);
        Assert.Null(orders[0].Margin);
        Assert.Equal("A-2", orders[1].OrderId);
        Assert.Equal(new DateTimeOffset(1997, 1, 18, 8, 0, 0, TimeSpan.Zero), orders[1].PlacedAt);
        Assert.Equal(3.5m, orders[1].Margin);
    }

    [Fact]
    public void A_csv_without_the_required_columns_names_what_is_missing()
    {
        var (_, errors) = OrderImportParser.ParseCsv(new StringReader("id,when,amount\n1,2,3\n"), 10);

        Assert.Contains(errors, e => e.Contains("'order_id'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'placed_at'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("a customer column", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_bad_json_line_is_reported_with_its_number_and_good_lines_are_kept_apart()
    {
        var lines = """
            {"orderId":"1","email":"a@example.com","placedAt":"2026-01-01","revenue":5}
            not json
            {"orderId":"3","placedAt":"yesterday","revenue":-1}
            [1,2]
            """;
        var (orders, errors) = OrderImportParser.ParseJsonLines(new StringReader(lines), 10);

        Assert.Single(orders);
        Assert.Equal(3, errors.Count);
        Assert.StartsWith("Line 2: not JSON", errors[0], StringComparison.Ordinal);
        Assert.Contains("Line 3", errors[1], StringComparison.Ordinal);
        Assert.Contains("'placed_at'", errors[1], StringComparison.Ordinal);
        Assert.Contains("'revenue' must be a number of at least 0", errors[1], StringComparison.Ordinal);
        Assert.Contains("a customer is required", errors[1], StringComparison.Ordinal);
        Assert.Equal("Line 4: each line must be a JSON object.", errors[2]);
    }

    [Fact]
    public void An_import_over_the_row_limit_is_refused_once_and_errors_stop_at_twenty()
    {
        var many = string.Join('\n', Enumerable.Range(0, 5).Select(i => $$"""{"orderId":"{{i}}","userId":"u","placedAt":"2026-01-01","revenue":1}"""));
        var (_, tooMany) = OrderImportParser.ParseJsonLines(new StringReader(many), 3);
        Assert.Equal(["More than 3 orders in one import: split the file."], tooMany);

        var bad = "order_id,user_id,placed_at,revenue\n" + string.Join('\n', Enumerable.Range(0, 50).Select(i => $"{i},u,never,1"));
        var (_, errors) = OrderImportParser.ParseCsv(new StringReader(bad), 100);
        Assert.Equal(OrderImportParser.MaxErrors, errors.Count);
    }

    [Fact]
    public void An_imported_order_becomes_a_historical_order_completed_with_a_message_id_from_its_order_id()
    {
        var order = new ImportedOrder(7, "SO-9", new DateTimeOffset(1997, 3, 1, 0, 0, 0, TimeSpan.Zero), 12.5m, "USD", null, null, "ola@example.com", null, null);
        var first = OrderImportStore.Message("imp_a", order);
        var again = OrderImportStore.Message("imp_b", order);

        Assert.Equal("Order Completed", first["event"]!.GetValue<string>());
        Assert.Equal(first["messageId"]!.GetValue<string>(), again["messageId"]!.GetValue<string>());
        Assert.Equal("1997-03-01T00:00:00.0000000+00:00", first["timestamp"]!.GetValue<string>());
        Assert.Equal("ola@example.com", first["context"]!["traits"]!["email"]!.GetValue<string>());
        Assert.NotNull(first["anonymousId"]);
        Assert.Null(first["userId"]);
        Assert.Equal("imp_a", first["context"]!["import"]!["id"]!.GetValue<string>());
    }
}
