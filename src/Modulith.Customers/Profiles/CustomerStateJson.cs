using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modulith.Customers.Profiles;

/// <summary>
/// Serialisation code generated at build time for the stored customer state, with the grain storage's JSON settings
/// (docs/adr/0003): the same JSON as reflection writes, written faster (GrainStateBenchmarks, docs/performance.md). The
/// state is written at almost every drain that touches the customer.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(CustomerState))]
internal sealed partial class CustomerStateJson : JsonSerializerContext;
