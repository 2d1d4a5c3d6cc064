using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Modulith.Benchmarks.Load;
using Modulith.Ingestion.Segment;

namespace Modulith.Benchmarks.CodePaths;

/// <summary>Validation and normalisation of a 100-message batch, against only parsing the same JSON.</summary>
[MemoryDiagnoser]
public class NormalizerBenchmarks
{
    private byte[] _batch = [];
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

    [GlobalSetup]
    public void Setup() => _batch = Encoding.UTF8.GetBytes(LoadRunner.Batches(7, 1, 100)[0].Body);

    [Benchmark(Baseline = true)]
    public int ParseOnly()
    {
        using var document = JsonDocument.Parse(_batch);
        return document.RootElement.GetProperty("batch").GetArrayLength();
    }

    [Benchmark]
    public int ValidateAndNormalize() => SegmentNormalizer.NormalizeBatch(_batch, _now).Events.Count;

    /// <summary>The same with a <c>JsonNode</c> tree of every message, as before session 30.</summary>
    [Benchmark]
    public int ValidateAndNormalizeByTree() => SegmentNormalizer.NormalizeBatch(_batch, _now, streaming: false).Events.Count;
}
