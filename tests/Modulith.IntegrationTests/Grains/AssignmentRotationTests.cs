using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Leads;
using Modulith.Leads.Routing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Modulith.IntegrationTests.Grains;

/// <summary>The rotation of a pool of reps (Orleans' in-process test cluster; its storage holds every write until the test lets it go).</summary>
public sealed class AssignmentRotationTests : IAsyncLifetime
{
    private static readonly Candidate[] Reps = [new("ann", 1, 0), new("bob", 1, 0), new("cyd", 1, 0)];

    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        GatedStorage.Open();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Picks_of_one_pool_do_not_wait_for_the_rotation_to_be_stored_and_the_rotation_survives_deactivation()
    {
        var pool = "ws-rotation/" + Guid.NewGuid().ToString("N");
        var grain = _cluster.GrainFactory.GetGrain<IAssignmentGrain>(pool);

        // Every write waits at the gate: the picks still answer, in turn. The first pick's write reaches the storage a
        // moment after the pick answered; the other picks are made while it waits.
        var first = await grain.PickAsync("round_robin", Reps).WaitAsync(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 200 && GatedStorage.WritesStarted(pool) == 0; i++)
        {
            await Task.Delay(25);
        }

        var picks = (await Task.WhenAll(Enumerable.Range(0, 29).Select(_ => grain.PickAsync("round_robin", Reps))).WaitAsync(TimeSpan.FromSeconds(20)))
            .Prepend(first).ToList();
        Assert.Equal(10, picks.Count(p => p == "ann"));
        Assert.Equal(10, picks.Count(p => p == "bob"));
        Assert.Equal(10, picks.Count(p => p == "cyd"));
        Assert.Equal(1, GatedStorage.WritesStarted(pool));

        // Opened, the picks made during the first write are stored together by one more.
        GatedStorage.Open();
        // From no rotation, thirty picks over three reps end with the third.
        var stored = await GatedStorage.WaitForStoredAsync(pool, "cyd");
        Assert.Equal("cyd", stored);
        Assert.Equal(2, GatedStorage.WritesStarted(pool));

        // A new activation reads the rotation back and goes on from it.
        await _cluster.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var next = await grain.PickAsync("round_robin", Reps);
        Assert.Equal("ann", next);
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(LeadsModule.GrainStorage, (_, _) => new GatedStorage());
    }

    /// <summary>Keeps states in memory; a write does not finish before <see cref="Open"/>.</summary>
    private sealed class GatedStorage : IGrainStorage
    {
        private static readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private static readonly ConcurrentDictionary<string, (string? LastRepId, int Writes)> Stored = new();

        public static void Open() => Gate.TrySetResult();

        public static int WritesStarted(string pool) => Stored.TryGetValue(pool, out var s) ? s.Writes : 0;

        public static async Task<string?> WaitForStoredAsync(string pool, string expected)
        {
            for (var i = 0; i < 200 && !(Stored.TryGetValue(pool, out var s) && s.LastRepId == expected); i++)
            {
                await Task.Delay(50);
            }

            return Stored.TryGetValue(pool, out var found) ? found.LastRepId : null;
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Stored.TryGetValue(grainId.Key.ToString()!, out var s) && grainState is IGrainState<AssignmentState> rotation)
            {
                rotation.State = new AssignmentState { LastRepId = s.LastRepId };
                rotation.RecordExists = true;
            }

            return Task.CompletedTask;
        }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var key = grainId.Key.ToString()!;
            // What the write stores is taken when it starts, as a real storage serialises it then.
            var lastRepId = (grainState.State as AssignmentState)?.LastRepId;
            Stored.AddOrUpdate(key, _ => (null, 1), (_, s) => (s.LastRepId, s.Writes + 1));
            await Gate.Task;
            Stored.AddOrUpdate(key, _ => (lastRepId, 1), (_, s) => (lastRepId, s.Writes));
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }
}
