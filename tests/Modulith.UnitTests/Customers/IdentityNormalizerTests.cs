using Modulith.Customers.Identity;

namespace Modulith.UnitTests.Customers;

public sealed class IdentityNormalizerTests
{
    [Theory]
    [InlineData(" Jane.Doe@Example.COM ", "jane.doe@example.com")]
    [InlineData("not-an-email", null)]
    [InlineData("a@b", null)]
    [InlineData("two@at@example.com", null)]
    [InlineData("", null)]
    public void Emails_are_trimmed_and_lower_cased_and_invalid_ones_dropped(string raw, string? expected)
    {
        Assert.Equal(expected, IdentityNormalizer.Email(raw));
    }

    [Theory]
    [InlineData("+48 601 234 567", null, "+48601234567")]
    [InlineData("601-234-567", "PL", "+48601234567")]
    [InlineData("(415) 555-2671", "US", "+14155552671")]
    [InlineData("601234567", null, null)]
    [InlineData("+48 123", null, null)]
    [InlineData("call me", "PL", null)]
    public void Phones_are_formatted_as_e164(string raw, string? region, string? expected)
    {
        Assert.Equal(expected, IdentityNormalizer.Phone(raw, region));
    }
}
