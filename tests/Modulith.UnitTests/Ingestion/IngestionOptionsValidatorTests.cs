using Modulith.Ingestion.EventLog;

namespace Modulith.UnitTests.Ingestion;

public sealed class IngestionOptionsValidatorTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new IngestionOptionsValidator().Validate(null, new IngestionOptions()).Succeeded);
    }

    [Fact]
    public void Every_setting_out_of_range_is_named()
    {
        var options = new IngestionOptions { ConcurrentDrains = 0, MaxPendingEvents = -1, DrainCoalesceWindow = TimeSpan.FromMilliseconds(-5) };

        var result = new IngestionOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Modulith:Ingestion:ConcurrentDrains must be at least 1 (it is 0).", result.Failures!);
        Assert.Contains("Modulith:Ingestion:MaxPendingEvents must be at least 1 (it is -1).", result.Failures!);
        Assert.Contains(result.Failures!, f => f.StartsWith("Modulith:Ingestion:DrainCoalesceWindow must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void A_coalescing_window_over_ten_seconds_is_refused()
    {
        var options = new IngestionOptions { DrainCoalesceWindow = TimeSpan.FromSeconds(11) };

        Assert.True(new IngestionOptionsValidator().Validate(null, options).Failed);
    }
}
