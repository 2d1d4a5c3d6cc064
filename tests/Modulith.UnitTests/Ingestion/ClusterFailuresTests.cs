using Modulith.Ingestion.Dispatch;
using Orleans.Runtime;

namespace Modulith.UnitTests.Ingestion;

public sealed class ClusterFailuresTests
{
    public static TheoryData<Exception> Transient => new()
    {
        new SiloUnavailableException("the silo is gone"),
        new TimeoutException("no response in time"),
        new AggregateException(new InvalidOperationException("one"), new SiloUnavailableException("two")),
        new InvalidOperationException("applying failed", new TimeoutException("no response in time")),
    };

    public static TheoryData<Exception> OfTheEvent => new()
    {
        new InvalidOperationException("the stored state is corrupt"),
        new System.Text.Json.JsonException("bad payload"),
        new AggregateException(new FormatException("bad number")),
    };

    [Theory]
    [MemberData(nameof(Transient))]
    public void A_silo_that_is_gone_or_a_call_that_timed_out_is_a_passing_failure_of_the_cluster_and_parks_nothing(Exception failure) =>
        Assert.True(ClusterFailures.IsTransient(failure));

    [Theory]
    [MemberData(nameof(OfTheEvent))]
    public void Any_other_failure_counts_against_the_event(Exception failure) =>
        Assert.False(ClusterFailures.IsTransient(failure));
}
