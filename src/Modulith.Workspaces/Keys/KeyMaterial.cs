using System.Security.Cryptography;
using System.Text;

namespace Modulith.Workspaces.Keys;

/// <summary>Generates keys and the hashes stored in their place.</summary>
internal static class KeyMaterial
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public const string ApiKeyPrefix = "mk_";
    public const string WriteKeyPrefix = "wk_";

    public static string NewSecret(string prefix) => prefix + RandomString(40);

    public static string NewId(string prefix) => prefix + RandomString(16).ToLowerInvariant();

    /// <summary>Keys are 238-bit random strings, so a single SHA-256 is the right hash: a slow KDF protects guessable passwords, not these.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string DisplayPrefix(string secret) => secret.Length <= 10 ? secret : secret[..10];

    private static string RandomString(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
