using System.Text.Json;
using Modulith.Leads.Contracts;

namespace Modulith.Leads.Scoring;

/// <summary>
/// SPEC §2's default model. MQL: 3+ product views, a newsletter subscription or a download, 120 s on the site, and the
/// buyer persona (an email or a phone). SQL: any of cart, checkout, a support contact, or purchase intent.
/// </summary>
internal static class DefaultScoringModel
{
    public static ScoringModel Create() => new(
        [
            new("product_views", "Viewed at least 3 product pages", "engagement", 5, Events: ["Product Viewed"], MinCount: 3, Cap: 25),
            new("newsletter_or_download", "Subscribed to the newsletter or downloaded a material", "engagement", 15, Events: ["Newsletter Subscribed", "Content Downloaded"], Cap: 15),
            new("time_on_site", "Spent at least 2 minutes on the site", "engagement", 10,
                Profile: new ProfileCondition(Metric: "timeOnSiteSeconds", Op: "gte", Value: JsonSerializer.SerializeToElement(120))),
            new("buyer_persona", "The profile matches the buyer persona (has an email or a phone)", "fit", 20,
                Profile: new ProfileCondition(Identity: "contact")),
            new("added_to_cart", "Added a product to the cart", "engagement", 20, Events: ["Product Added"], Cap: 20),
            new("started_checkout", "Started checkout", "engagement", 30, Events: ["Checkout Started"], Cap: 30),
            new("contacted_support", "Contacted customer service", "engagement", 10, Events: ["Support Contacted"], Cap: 10),
            new("purchase_intent", "Showed purchase intent in a conversation", "engagement", 30, Events: ["Purchase Intent Expressed"], Cap: 30),
        ],
        EngagementHalfLifeDays: 30,
        Mql: new QualificationCriteria(AllOf: ["product_views", "newsletter_or_download", "time_on_site", "buyer_persona"]),
        Sql: new QualificationCriteria(AnyOf: ["added_to_cart", "started_checkout", "contacted_support", "purchase_intent"]),
        Version: 1);
}
