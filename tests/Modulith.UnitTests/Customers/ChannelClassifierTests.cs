using Modulith.Customers.Touchpoints;

namespace Modulith.UnitTests.Customers;

public sealed class ChannelClassifierTests
{
    [Theory]
    [InlineData("cpc", "google", null, false, false, "paid_search")]
    [InlineData("ppc", "bing", null, false, false, "paid_search")]
    [InlineData(null, null, "www.google.com", true, false, "paid_search")]
    [InlineData("paid_social", "facebook", null, false, false, "paid_social")]
    [InlineData("cpm", "instagram", null, false, false, "paid_social")]
    [InlineData(null, null, "l.facebook.com", false, true, "paid_social")]
    [InlineData("email", "newsletter", null, false, false, "email")]
    [InlineData("sms", "smsapi", null, false, false, "sms")]
    [InlineData("affiliate", "partner", null, false, false, "affiliate")]
    [InlineData("display", "gdn", null, false, false, "display")]
    [InlineData("banner", "site", null, false, false, "display")]
    [InlineData("cpm", "gdn", null, false, false, "display")]
    [InlineData(null, null, "www.google.pl", false, false, "organic_search")]
    [InlineData(null, null, "duckduckgo.com", false, false, "organic_search")]
    [InlineData(null, null, "m.facebook.com", false, false, "organic_social")]
    [InlineData(null, null, "t.co", false, false, "organic_social")]
    [InlineData(null, null, "blog.example.org", false, false, "referral")]
    [InlineData(null, null, null, false, false, "direct")]
    public void Visits_are_classified_by_the_default_channel_grouping(string? medium, string? source, string? referrer, bool gclid, bool fbclid, string expected)
    {
        Assert.Equal(expected, ChannelClassifier.Classify(medium, source, referrer, gclid, fbclid));
    }
}
