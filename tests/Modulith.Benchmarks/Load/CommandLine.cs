using System.Globalization;

namespace Modulith.Benchmarks.Load;

/// <summary><c>--name value</c> options of the benchmark commands.</summary>
internal static class CommandLine
{
    public static int Number(string[] args, string name, int fallback) =>
        Text(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    public static string? Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
