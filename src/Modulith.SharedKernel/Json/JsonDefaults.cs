using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modulith.SharedKernel.Json;

/// <summary>The JSON conventions of the API and of stored documents.</summary>
public static class JsonDefaults
{
    /// <summary>camelCase, enums as strings, nulls omitted.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
