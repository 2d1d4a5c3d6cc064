using System.IO.Compression;
using System.Text;
using Modulith.Host.Orleans;

namespace Modulith.UnitTests.Storage;

public sealed class GrainStateSerializationTests
{
    public sealed class Visit
    {
        public string? Page { get; set; }

        public List<string> Products { get; set; } = [];
    }

    private readonly JsonGrainStorageSerializer _serializer = new();

    [Fact]
    public void A_small_state_is_stored_as_plain_JSON_by_property_name()
    {
        var stored = _serializer.Serialize(new Visit { Page = "Home", Products = ["SKU-1"] });

        Assert.Equal("{\"page\":\"Home\",\"products\":[\"SKU-1\"]}", stored.ToString());
    }

    [Fact]
    public void A_large_state_is_stored_as_standard_zlib_of_the_same_JSON_and_read_back()
    {
        var visit = new Visit { Page = "Product", Products = [.. Enumerable.Range(0, 300).Select(i => $"SKU-{i:D4}")] };

        var stored = _serializer.Serialize(visit).ToArray();

        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(stored), CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var json = Encoding.UTF8.GetString(inflated.ToArray());
        Assert.StartsWith("{\"page\":\"Product\",\"products\":[\"SKU-0000\"", json, StringComparison.Ordinal);
        Assert.True(json.Length >= JsonGrainStorageSerializer.CompressFromBytes);
        Assert.True(stored.Length < json.Length / 3, $"{stored.Length} bytes stored for {json.Length} bytes of JSON.");
        var read = _serializer.Deserialize<Visit>(new BinaryData(stored));
        Assert.Equal(visit.Products, read.Products);
    }

    [Fact]
    public void A_large_state_stored_as_plain_JSON_before_compression_is_still_read()
    {
        var json = "{\"page\":\"Cart\",\"products\":[" + string.Join(',', Enumerable.Range(0, 300).Select(i => $"\"SKU-{i}\"")) + "]}";

        var read = _serializer.Deserialize<Visit>(new BinaryData(Encoding.UTF8.GetBytes(json)));

        Assert.Equal("Cart", read.Page);
        Assert.Equal(300, read.Products.Count);
    }

    [Fact]
    public void An_empty_payload_reads_as_no_state() =>
        Assert.Null(_serializer.Deserialize<Visit>(new BinaryData(Array.Empty<byte>())));
}
