using System.Globalization;

namespace Modulith.Benchmarks.Load;

/// <summary>
/// The machine's CPU time counters from <c>/proc/stat</c>: what the hypervisor gave to other guests (steal) and the total.
/// On a shared virtual machine the steal moves the rates and latencies of a run more than most changes under test, so
/// the benchmarks print it beside their figures.
/// </summary>
public readonly record struct CpuSteal(long Steal, long Total)
{
    /// <summary>The counters now, or null where <c>/proc/stat</c> cannot be read.</summary>
    public static CpuSteal? Read()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var fields = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is not { Length: > 8 } || fields[0] != "cpu")
            {
                return null;
            }

            // user nice system idle iowait irq softirq steal: guest time is already counted in user and nice.
            var ticks = fields[1..9].Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return new CpuSteal(ticks[7], ticks.Sum());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The share of the machine's CPU time stolen between two readings, as text ("n/a" without both).</summary>
    public static string Between(CpuSteal? from, CpuSteal? to) =>
        from is { } a && to is { } b && b.Total > a.Total
            ? ((double)(b.Steal - a.Steal) / (b.Total - a.Total)).ToString("P1", CultureInfo.InvariantCulture)
            : "n/a";
}
