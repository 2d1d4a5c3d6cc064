using System.Globalization;
using System.Text;

namespace Modulith.Benchmarks.Traffic;

/// <summary>
/// Generates realistic shop sessions as Segment messages: a visit from a marketing source (UTM, click ids, referrers),
/// browsing, product views, carts, checkouts, orders, sign-ups and returning visitors who identify.
/// </summary>
public sealed class ShopTraffic(int seed, DateTimeOffset start)
{
    private static readonly (string? Source, string? Medium, string? Referrer, string? ClickId, int Weight)[] Sources =
    [
        (null, null, null, null, 25),
        ("google", "cpc", "https://www.google.com/", "gclid", 18),
        (null, null, "https://www.google.pl/", null, 16),
        ("facebook", "paid_social", "https://l.facebook.com/", "fbclid", 10),
        (null, null, "https://www.instagram.com/", null, 6),
        ("newsletter", "email", null, null, 10),
        ("smsapi", "sms", null, null, 4),
        ("partner", "affiliate", "https://deals.example.org/", null, 5),
        (null, null, "https://blog.example.net/post", null, 6),
    ];

    private static readonly string[] Campaigns = ["black-friday", "winter-sale", "new-arrivals", "retargeting"];
    private static readonly string[] Products = Enumerable.Range(1, 200).Select(i => $"SKU-{i:000}").ToArray();
    private readonly Random _random = new(seed);
    private int _visitor;
    private int _message;
    private DateTimeOffset _clock = start;

    /// <summary>One visit of a new or returning visitor, as (route type, JSON message) pairs in time order.</summary>
    public IEnumerable<string> Session()
    {
        var returning = _visitor > 10 && _random.NextDouble() < 0.3;
        var visitor = returning ? _random.Next(1, _visitor) : ++_visitor;
        var anonymousId = $"anon-{seed}-{visitor}";
        var userId = $"user-{seed}-{visitor}";
        var known = returning && _random.NextDouble() < 0.5;
        var (source, medium, referrer, clickId, _) = PickSource();
        var campaign = source is null ? null : Campaigns[_random.Next(Campaigns.Length)];
        var query = new StringBuilder();
        if (source is not null)
        {
            query.Append(CultureInfo.InvariantCulture, $"?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}");
        }

        if (clickId is not null)
        {
            query.Append(query.Length == 0 ? '?' : '&').Append(clickId).Append('=').Append(_random.Next(100000, 999999));
        }

        _clock = _clock.AddSeconds(_random.Next(30, 600));
        var page = $$$"""{"url":"https://shop.example/{{{query}}}","referrer":{{{(referrer is null ? "null" : $"\"{referrer}\"")}}}}""";
        yield return Message("page", anonymousId, known ? userId : null, "\"name\":\"Home\"", page);

        var views = 1 + _random.Next(6);
        for (var i = 0; i < views; i++)
        {
            var product = Products[_random.Next(Products.Length)];
            yield return Message("track", anonymousId, known ? userId : null,
                $$$"""
                "event":"Product Viewed","properties":{"product_id":"{{{product}}}","price":{{{Price(product)}}},"currency":"PLN"}
                """, null);
        }

        if (_random.NextDouble() < 0.12)
        {
            yield return Message("track", anonymousId, known ? userId : null, "\"event\":\"Newsletter Subscribed\"", null);
        }

        if (_random.NextDouble() > 0.3)
        {
            yield break;
        }

        var cart = Products[_random.Next(Products.Length)];
        var quantity = 1 + _random.Next(3);
        yield return Message("track", anonymousId, known ? userId : null,
            $$$"""
            "event":"Product Added","properties":{"product_id":"{{{cart}}}","price":{{{Price(cart)}}},"quantity":{{{quantity}}}}
            """, null);
        if (_random.NextDouble() > 0.5)
        {
            yield break;
        }

        yield return Message("track", anonymousId, known ? userId : null, "\"event\":\"Checkout Started\"", null);
        if (!known)
        {
            yield return Message("identify", anonymousId, userId,
                $$$"""
                "traits":{"email":"customer{{{seed}}}x{{{visitor}}}@example.com","firstName":"Customer {{{visitor}}}","phone":"+48 6{{{visitor % 100:00}}} 000 {{{visitor % 1000:000}}}"}
                """, null);
        }

        if (_random.NextDouble() < 0.7)
        {
            var total = (decimal.Parse(Price(cart), CultureInfo.InvariantCulture) * quantity).ToString(CultureInfo.InvariantCulture);
            yield return Message("track", anonymousId, userId,
                $$$"""
                "event":"Order Completed","properties":{"order_id":"o-{{{seed}}}-{{{++_message}}}","revenue":{{{total}}},"currency":"PLN","products":[{"product_id":"{{{cart}}}","quantity":{{{quantity}}}}]}
                """, null);
        }
    }

    private string Message(string type, string anonymousId, string? userId, string body, string? page)
    {
        _clock = _clock.AddSeconds(_random.Next(5, 90));
        var user = userId is null ? string.Empty : $",\"userId\":\"{userId}\"";
        var context = page is null ? string.Empty : $",\"context\":{{\"page\":{page}}}";
        return $$$"""{"type":"{{{type}}}","messageId":"msg-{{{seed}}}-{{{++_message}}}","anonymousId":"{{{anonymousId}}}"{{{user}}},"timestamp":"{{{_clock.ToString("O", CultureInfo.InvariantCulture)}}}",{{{body.Trim()}}}{{{context}}}}""";
    }

    private (string? Source, string? Medium, string? Referrer, string? ClickId, int Weight) PickSource()
    {
        var roll = _random.Next(Sources.Sum(s => s.Weight));
        foreach (var source in Sources)
        {
            roll -= source.Weight;
            if (roll < 0)
            {
                return source;
            }
        }

        return Sources[0];
    }

    private static string Price(string product) => (19.99m + int.Parse(product.AsSpan(4), CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
}
