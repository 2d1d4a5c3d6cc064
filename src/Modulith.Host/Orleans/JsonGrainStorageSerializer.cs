using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace Modulith.Host.Orleans;

/// <summary>
/// Stores grain state as plain JSON by property name, without CLR type names, so types can be renamed or moved
/// without breaking stored rows (docs/adr/0003-grain-state-as-json.md).
/// </summary>
internal sealed class JsonGrainStorageSerializer : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        IgnoreReadOnlyProperties = true,
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) => input.ToMemory().Length == 0 ? default! : JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)!;
}
