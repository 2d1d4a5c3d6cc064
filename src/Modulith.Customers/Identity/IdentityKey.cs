using PhoneNumbers;

namespace Modulith.Customers.Identity;

/// <summary>One normalised identifier of a customer: userId, anonymousId, email (lower-case) or phone (E.164).</summary>
internal readonly record struct IdentityKey(string Kind, string Value)
{
    public const string UserId = "userId";
    public const string AnonymousId = "anonymousId";
    public const string Email = "email";
    public const string Phone = "phone";

    public override string ToString() => $"{Kind}:{Value}";

    public string GrainKey(string workspaceId) => $"{workspaceId}/{Kind}:{Value}";

    /// <summary>Kinds in resolution priority: the first identifier that already has a profile decides which profile survives.</summary>
    public static int Priority(string kind) => kind switch
    {
        UserId => 0,
        Email => 1,
        Phone => 2,
        _ => 3,
    };
}

/// <summary>Normalisation rules for identifiers (pure).</summary>
internal static class IdentityNormalizer
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    public static string? Email(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var email = raw.Trim().ToLowerInvariant();
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == email.LastIndexOf('@') && at < email.Length - 3 && email.IndexOf('.', at) > at + 1 && !email.Any(char.IsWhiteSpace) && email.Length <= 254
            ? email
            : null;
    }

    /// <summary>E.164, or null when the number is not valid (numbers without a country code need <paramref name="defaultRegion"/>).</summary>
    public static string? Phone(string? raw, string? defaultRegion)
    {
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > 40)
        {
            return null;
        }

        try
        {
            var number = Phones.Parse(raw.Trim(), defaultRegion);
            return Phones.IsValidNumber(number) ? Phones.Format(number, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}
