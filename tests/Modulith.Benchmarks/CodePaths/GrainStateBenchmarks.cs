using BenchmarkDotNet.Attributes;
using Modulith.Customers;
using Modulith.Customers.Profiles;
using Modulith.Host.Orleans;
using Modulith.Leads;

namespace Modulith.Benchmarks.CodePaths;

/// <summary>
/// Writing a customer's stored state (the profile of a visitor of the <c>steady</c> traffic, zlib-compressed; its recent
/// events are not stored, ADR 0013) through reflection, against the module's build-time JSON contract.
/// </summary>
[MemoryDiagnoser]
public class GrainStateBenchmarks
{
    private readonly JsonGrainStorageSerializer _reflection = new();
    private readonly JsonGrainStorageSerializer _generated = new(CustomersModule.GrainStateJson, LeadsModule.GrainStateJson);
    private CustomerState _state = new();

    [GlobalSetup]
    public void Setup()
    {
        var at = new DateTimeOffset(2026, 11, 24, 0, 31, 32, 475, TimeSpan.Zero);
        _state = new CustomerState
        {
            Id = "cus_0196a4f1c2b37c0e9d5a1b2c3d4e5f60",
            WorkspaceId = "ws_default",
            CreatedAt = at,
            FirstSeen = at,
            LastSeen = at.AddMinutes(5),
            Identities =
            [
                new IdentityEntry { Kind = "anonymousId", Value = "anon-11-4711", FirstSeen = at },
                new IdentityEntry { Kind = "email", Value = "visitor4711@example.com", FirstSeen = at.AddMinutes(2) },
            ],
            Traits = { ["email"] = "\"visitor4711@example.com\"", ["first_name"] = "\"Anna\"" },
            Touchpoints = [.. Enumerable.Range(0, 10).Select(i => new Touchpoint
            {
                At = at.AddSeconds(i * 30), Channel = "paid_search", Source = "google", Medium = "cpc", Campaign = "new-arrivals",
                Referrer = "https://www.google.com/", ClickId = $"gclid:{i:D10}", LandingPage = "https://shop.example/?utm_source=google&utm_medium=cpc", MessageId = $"msg-11-{i}",
            })],
            Counters = new Counters { Events = 85, ProductViews = 40, PageViews = 30, Sessions = 3, ClosedSessionSeconds = 312.5, SessionStart = at, SessionLast = at.AddMinutes(5), EventCounts = { ["Product Viewed"] = 40, ["Product Added"] = 4, ["Checkout Started"] = 2 } },
            RecentEvents = [.. Enumerable.Range(0, CustomerState.RecentEventCount).Select(i => new RecentEvent
            {
                Sequence = 278_850 + i, MessageId = $"msg-11-{284_459 + i}", Type = i % 5 == 0 ? "page" : "track", Name = i % 5 == 0 ? "Home" : "Product Viewed", Timestamp = at.AddSeconds(i * 3.1),
            })],
            RecentSequences = [.. Enumerable.Range(0, 85).Select(i => 278_815L + i)],
            LastSequence = 278_899,
        };
    }

    [Benchmark(Baseline = true)]
    public int Reflection() => _reflection.Serialize(_state).Length;

    [Benchmark]
    public int Generated() => _generated.Serialize(_state).Length;

    [Benchmark]
    public int ReflectionJsonOnly() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_state, _reflection.Options).Length;

    [Benchmark]
    public int GeneratedJsonOnly() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_state, _generated.Options).Length;
}
