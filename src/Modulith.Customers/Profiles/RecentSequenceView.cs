using System.Collections;

namespace Modulith.Customers.Profiles;

/// <summary>The sequences of a profile's recent events, read in place (a snapshot is made for every applied batch).</summary>
internal sealed class RecentSequenceView(List<RecentEvent> events) : IReadOnlyList<long>
{
    public int Count => events.Count;

    public long this[int index] => events[index].Sequence;

    public IEnumerator<long> GetEnumerator() => events.Select(e => e.Sequence).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
