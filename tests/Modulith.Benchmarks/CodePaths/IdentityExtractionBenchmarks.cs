using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Modulith.Benchmarks.Load;
using Modulith.Customers.Profiles;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Segment;

namespace Modulith.Benchmarks.CodePaths;

/// <summary>
/// Identity resolution reading the identifiers of 1,000 events of the traffic generator (<c>ProfileFolder.IdentitiesOf</c>),
/// with the payloads as the log stores them now against the same payloads stored as earlier versions did, with a plus
/// sign or a letter outside ASCII as a \u escape (the baseline).
/// </summary>
[MemoryDiagnoser]
public class IdentityExtractionBenchmarks
{
    private List<IngestedEvent> _storedNow = [];
    private List<IngestedEvent> _storedBefore = [];

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        var events = LoadRunner.Batches(11, 10, 100)
            .SelectMany(batch => SegmentNormalizer.NormalizeBatch(Encoding.UTF8.GetBytes(batch.Body), now).Events)
            .ToList();
        IngestedEvent Stored(NormalizedEvent e, long sequence, string payload) =>
            new(sequence, "bench", e.MessageId, e.Type, e.Name, e.UserId, e.AnonymousId, e.PreviousId, e.Timestamp, e.ReceivedAt, payload);
        _storedNow = events.Select((e, i) => Stored(e, i, e.Payload)).ToList();
        _storedBefore = events.Select((e, i) => Stored(e, i, JsonNode.Parse(e.Payload)!.ToJsonString())).ToList();
    }

    [Benchmark(Baseline = true)]
    public int Stored_with_escapes() => _storedBefore.Sum(e => ProfileFolder.IdentitiesOf(e, "PL").Count);

    [Benchmark]
    public int Stored_as_written() => _storedNow.Sum(e => ProfileFolder.IdentitiesOf(e, "PL").Count);
}
