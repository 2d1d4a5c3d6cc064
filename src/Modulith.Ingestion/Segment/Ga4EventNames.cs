using System.Collections.Frozen;

namespace Modulith.Ingestion.Segment;

/// <summary>GA4 recommended event names mapped to the Segment e-commerce v2 names (SPEC §2, Event).</summary>
internal static class Ga4EventNames
{
    public static readonly FrozenDictionary<string, string> ToSegment = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["view_item"] = "Product Viewed",
        ["view_product"] = "Product Viewed",
        ["view_item_list"] = "Product List Viewed",
        ["select_item"] = "Product Clicked",
        ["add_to_cart"] = "Product Added",
        ["remove_from_cart"] = "Product Removed",
        ["view_cart"] = "Cart Viewed",
        ["add_to_wishlist"] = "Product Added to Wishlist",
        ["begin_checkout"] = "Checkout Started",
        ["add_shipping_info"] = "Checkout Step Completed",
        ["add_payment_info"] = "Payment Info Entered",
        ["purchase"] = "Order Completed",
        ["refund"] = "Order Refunded",
        ["search"] = "Products Searched",
        ["view_promotion"] = "Promotion Viewed",
        ["select_promotion"] = "Promotion Clicked",
        ["share"] = "Product Shared",
        ["sign_up"] = "Signed Up",
        ["login"] = "Signed In",
        ["generate_lead"] = "Lead Generated",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>GA4 parameter names renamed to their Segment e-commerce v2 equivalents when the event was mapped.</summary>
    public static readonly IReadOnlyList<(string Ga4, string Segment)> Properties =
    [
        ("transaction_id", "order_id"),
        ("value", "total"),
        ("items", "products"),
        ("coupon", "coupon"),
        ("shipping", "shipping"),
        ("tax", "tax"),
        ("search_term", "query"),
        ("item_list_id", "list_id"),
    ];

    public static readonly IReadOnlyList<(string Ga4, string Segment)> ItemProperties =
    [
        ("item_id", "product_id"),
        ("item_name", "name"),
        ("item_brand", "brand"),
        ("item_category", "category"),
        ("item_variant", "variant"),
    ];
}
