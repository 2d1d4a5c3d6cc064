using System.Buffers;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orleans.Storage;

namespace Modulith.Host.Orleans;

/// <summary>
/// Stores grain state as plain JSON by property name, without CLR type names, so types can be renamed or moved
/// without breaking stored rows (docs/adr/0003-grain-state-as-json.md). A state of at least
/// <see cref="CompressFromBytes"/> bytes of JSON is stored zlib-compressed (docs/adr/0010-compressed-grain-state.md);
/// reading accepts both forms, so rows written before compression, or below the threshold, stay readable.
/// </summary>
internal sealed class JsonGrainStorageSerializer(params IJsonTypeInfoResolver[] generated) : IGrainStorageSerializer
{
    /// <summary>The size of JSON from which a state is stored compressed; smaller states stay readable in the database.</summary>
    public const int CompressFromBytes = 1_024;

    // The first byte of a zlib stream (deflate, 32 KB window). JSON text never starts with it ('x').
    private const byte ZlibHeader = 0x78;

    /// <summary>
    /// The settings and contracts states are written with. The modules' build-time contracts (JsonSerializerContext) write
    /// their states without reflection, given these same settings; every other state goes through reflection. Both write
    /// the same JSON.
    /// </summary>
    internal JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        IgnoreReadOnlyProperties = true,
        TypeInfoResolver = JsonTypeInfoResolver.Combine([.. generated, new DefaultJsonTypeInfoResolver()]),
    };

    // Buffers kept per thread: serializing is synchronous, and a grain's state is written often. A buffer grown past
    // KeptBufferBytes by an unusually large state is let go instead of being kept for the thread's life.
    private const int KeptBufferBytes = 1 << 20;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_json;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    [ThreadStatic]
    private static MemoryStream? t_compressed;

    public BinaryData Serialize<T>(T? input)
    {
        var json = t_json ??= new ArrayBufferWriter<byte>(16 * 1024);
        var writer = t_writer ??= new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = Options.Encoder, Indented = Options.WriteIndented });
        json.ResetWrittenCount();
        writer.Reset(json);
        JsonSerializer.Serialize(writer, input, Options);
        writer.Flush();
        try
        {
            if (json.WrittenCount < CompressFromBytes)
            {
                return new BinaryData(json.WrittenSpan.ToArray());
            }

            var compressed = t_compressed ??= new MemoryStream(json.WrittenCount);
            compressed.SetLength(0);
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(json.WrittenSpan);
            }

            return new BinaryData(compressed.ToArray());
        }
        finally
        {
            if (json.Capacity > KeptBufferBytes)
            {
                t_json = null;
                t_writer = null;
            }

            if (t_compressed?.Capacity > KeptBufferBytes)
            {
                t_compressed = null;
            }
        }
    }

    public T Deserialize<T>(BinaryData input)
    {
        var stored = input.ToMemory();
        if (stored.Length == 0)
        {
            return default!;
        }

        if (stored.Span[0] != ZlibHeader)
        {
            return JsonSerializer.Deserialize<T>(stored.Span, Options)!;
        }

        using var zlib = new ZLibStream(input.ToStream(), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<T>(zlib, Options)!;
    }
}
