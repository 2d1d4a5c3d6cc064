namespace Modulith.Customers.Touchpoints;

/// <summary>The default channel grouping of SPEC §2 (Attribution conventions), as a pure function.</summary>
internal static class ChannelClassifier
{
    private static readonly string[] SearchEngines = ["google.", "bing.", "yahoo.", "duckduckgo.", "baidu.", "yandex.", "ecosia.", "ask.", "aol.", "seznam.", "naver.", "startpage."];
    private static readonly string[] SocialNetworks = ["facebook.", "fb.", "instagram.", "t.co", "twitter.", "x.com", "linkedin.", "lnkd.in", "pinterest.", "reddit.", "tiktok.", "youtube.", "snapchat.", "vk.com", "wykop.", "threads.net"];
    private static readonly string[] SocialSources = ["facebook", "fb", "instagram", "ig", "meta", "twitter", "x", "linkedin", "pinterest", "reddit", "tiktok", "youtube", "snapchat"];

    /// <summary>Classifies a visit by its UTM medium and source, click ids and referrer host.</summary>
    /// <param name="medium">utm_medium.</param>
    /// <param name="source">utm_source.</param>
    /// <param name="referrerHost">The referrer's host (without the shop's own host).</param>
    /// <param name="hasGclid">A Google Ads click id (gclid, gbraid, wbraid) was present.</param>
    /// <param name="hasFbclid">A Meta click id (fbclid) was present.</param>
    public static string Classify(string? medium, string? source, string? referrerHost, bool hasGclid, bool hasFbclid)
    {
        var m = medium?.Trim().ToLowerInvariant() ?? string.Empty;
        var s = source?.Trim().ToLowerInvariant() ?? string.Empty;
        if (m is "cpc" or "ppc" or "paidsearch" or "paid_search" or "paid-search" || hasGclid)
        {
            return m is "paid_social" or "paidsocial" ? "paid_social" : "paid_search";
        }

        if (m is "paid_social" or "paidsocial" or "paid-social" || (m == "cpm" && SocialSources.Contains(s)) || hasFbclid)
        {
            return "paid_social";
        }

        switch (m)
        {
            case "email" or "e-mail" or "newsletter":
                return "email";
            case "sms":
                return "sms";
            case "affiliate" or "affiliates":
                return "affiliate";
            case "display" or "banner" or "cpm":
                return "display";
            case "social" or "social-network" or "social_network" or "sm" or "social-media":
                return "organic_social";
            case "organic":
                return "organic_search";
            case "referral":
                return "referral";
        }

        var host = referrerHost?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(host))
        {
            return SocialSources.Contains(s) ? "organic_social" : string.IsNullOrEmpty(s) ? "direct" : "referral";
        }

        if (host.StartsWith("www.", StringComparison.Ordinal))
        {
            host = host[4..];
        }

        if (SearchEngines.Any(engine => host.StartsWith(engine, StringComparison.Ordinal) || host.Contains("." + engine, StringComparison.Ordinal)))
        {
            return "organic_search";
        }

        if (SocialNetworks.Any(network => host.StartsWith(network, StringComparison.Ordinal) || host.Contains("." + network, StringComparison.Ordinal) || host == network))
        {
            return "organic_social";
        }

        return "referral";
    }
}
