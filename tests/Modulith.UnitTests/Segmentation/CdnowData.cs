using System.Globalization;

namespace Modulith.UnitTests.Segmentation;

/// <summary>The CDNOW sample in <c>../shared/datasets/cdnow</c> (beside the repository).</summary>
internal static class CdnowData
{
    public static string Folder()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Modulith.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Modulith.sln not found above the test binaries."), "..", "shared", "datasets", "cdnow");
    }

    /// <summary>Transactions: customer number (the second column, which the summary's ID uses), day, amount in dollars.</summary>
    public static IEnumerable<(string Customer, DateOnly Day, double Amount)> Transactions() =>
        File.ReadLines(Path.Combine(Folder(), "CDNOW_sample.txt"))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length == 5)
            .Select(parts => (parts[1], DateOnly.ParseExact(parts[2], "yyyyMMdd", CultureInfo.InvariantCulture), double.Parse(parts[4], CultureInfo.InvariantCulture)));

    /// <summary>The published calibration summary: id, frequency, recency, T.</summary>
    public static Dictionary<int, (int Frequency, double Recency, double Age)> PublishedSummary() =>
        File.ReadLines(Path.Combine(Folder(), "cdnow_customers_summary.csv")).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(
                parts => int.Parse(parts[0], CultureInfo.InvariantCulture),
                parts => (int.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture)));
}
