using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modulith.Leads.Pipeline;

/// <summary>
/// Serialisation code generated at build time for the stored lead state, with the grain storage's JSON settings
/// (docs/adr/0003): the same JSON as reflection writes, written faster (GrainStateBenchmarks, docs/performance.md).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(LeadState))]
internal sealed partial class LeadStateJson : JsonSerializerContext;
