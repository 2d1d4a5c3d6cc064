using System.Collections.Concurrent;

namespace Modulith.SharedKernel;

/// <summary>
/// One instance per distinct short value, for the strings that many long-lived objects repeat (event types and names,
/// UTM sources, media and campaigns): every event read from the log brings new copies of them, and grain states keep
/// them for as long as the activation lives, where each copy is more the garbage collector has to carry. The pool is
/// bounded; past the bound, values are kept as given.
/// </summary>
public static class SharedStrings
{
    private const int MaxLength = 100;
    private const int MaxEntries = 50_000;
    private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
    private static int _entries;

    /// <summary>The pooled instance equal to <paramref name="value"/>, or the value itself (long, or the pool is full).</summary>
    public static string? Of(string? value)
    {
        if (value is null || value.Length > MaxLength)
        {
            return value;
        }

        if (Pool.TryGetValue(value, out var shared))
        {
            return shared;
        }

        if (Volatile.Read(ref _entries) >= MaxEntries)
        {
            return value;
        }

        shared = Pool.GetOrAdd(value, value);
        if (ReferenceEquals(shared, value))
        {
            Interlocked.Increment(ref _entries);
        }

        return shared;
    }
}
