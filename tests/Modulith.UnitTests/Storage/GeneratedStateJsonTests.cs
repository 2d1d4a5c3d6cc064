using System.Collections;
using System.Reflection;
using Modulith.Customers;
using Modulith.Customers.Profiles;
using Modulith.Host.Orleans;
using Modulith.Leads;
using Modulith.Leads.Pipeline;

namespace Modulith.UnitTests.Storage;

/// <summary>
/// The customer and lead states are written by build-time JSON contracts; rows stored before them, and rows that other
/// versions read, must not change. Every property of the states, nested ones too, is given a value, so a property whose
/// generated form differed from reflection's would fail here.
/// </summary>
public sealed class GeneratedStateJsonTests
{
    private readonly JsonGrainStorageSerializer _generated = new(CustomersModule.GrainStateJson, LeadsModule.GrainStateJson);
    private readonly JsonGrainStorageSerializer _reflection = new();

    [Fact]
    public void The_customer_state_is_stored_as_the_same_JSON_as_reflection_writes() =>
        AssertSameJson(Populated<CustomerState>());

    [Fact]
    public void The_lead_state_is_stored_as_the_same_JSON_as_reflection_writes() =>
        AssertSameJson(Populated<LeadState>());

    [Fact]
    public void A_customer_state_stored_by_reflection_is_read_back_whole_by_the_generated_contract()
    {
        var state = Populated<CustomerState>();

        var read = _generated.Deserialize<CustomerState>(_reflection.Serialize(state));

        Assert.Equal(Json(_reflection, state), Json(_reflection, read));
    }

    [Fact]
    public void The_generated_contracts_serve_the_customer_and_lead_states_and_reflection_the_others()
    {
        Assert.Same(CustomersModule.GrainStateJson, _generated.Options.GetTypeInfo(typeof(CustomerState)).OriginatingResolver);
        Assert.Same(LeadsModule.GrainStateJson, _generated.Options.GetTypeInfo(typeof(LeadState)).OriginatingResolver);
        Assert.IsType<System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver>(
            _generated.Options.GetTypeInfo(typeof(GrainStateSerializationTests.Visit)).OriginatingResolver);
    }

    private void AssertSameJson<T>(T state)
    {
        var expected = Json(_reflection, state);
        Assert.True(expected.Length > JsonGrainStorageSerializer.CompressFromBytes, "The populated state is large enough to be compressed.");
        Assert.Equal(expected, Json(_generated, state));
    }

    // The stored JSON as written: a parsed element's raw text is the exact text it was read from.
    private static string Json<T>(JsonGrainStorageSerializer serializer, T state) =>
        serializer.Deserialize<System.Text.Json.JsonElement>(serializer.Serialize(state)).GetRawText();

    // Distinct values per property, so a property written under another name or in another form shows.
    private static T Populated<T>() => (T)Populate(typeof(T), 0, "root");

    private static object Populate(Type type, int depth, string name)
    {
        var seed = name.Length + depth;
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return $"{name}-\u00e9\"{seed}";
        if (type == typeof(bool)) return true;
        if (type == typeof(int)) return 1_000 + seed;
        if (type == typeof(long)) return 5_000_000_000L + seed;
        if (type == typeof(double)) return 0.1 + seed;
        if (type == typeof(decimal)) return 12.34m + seed;
        if (type == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 11, 24, 1, 2, 3, 456, TimeSpan.FromHours(seed % 3)).AddTicks(seed);
        if (type == typeof(TimeSpan)) return TimeSpan.FromSeconds(90.5 + seed);
        if (type.IsEnum) return Enum.GetValues(type).GetValue(0)!;
        if (type.IsGenericType && type.GetGenericArguments() is [var key, var value] && typeof(IDictionary).IsAssignableFrom(typeof(Dictionary<,>).MakeGenericType(key, value)))
        {
            var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(key, value))!;
            dictionary.Add(Populate(key, depth + 1, name + "Key"), Populate(value, depth + 1, name + "Value"));
            return dictionary;
        }

        if (type.IsGenericType && type.GetGenericArguments() is [var item] && typeof(IEnumerable).IsAssignableFrom(type))
        {
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(item))!;
            list.Add(Populate(item, depth + 1, name + "0"));
            list.Add(Populate(item, depth + 1, name + "1"));
            return list;
        }

        if (depth > 6)
        {
            throw new InvalidOperationException($"{type} nests too deeply to populate.");
        }

        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var instance = constructor.Invoke([.. constructor.GetParameters().Select(p => Populate(p.ParameterType, depth + 1, p.Name!))]);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0))
        {
            property.SetValue(instance, Populate(property.PropertyType, depth + 1, property.Name));
        }

        return instance;
    }
}
