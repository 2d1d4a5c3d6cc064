using Microsoft.Extensions.Options;

namespace Modulith.Ingestion.EventLog;

/// <summary>Checks <c>Modulith:Ingestion</c> at start, naming every setting out of range.</summary>
internal sealed class IngestionOptionsValidator : IValidateOptions<IngestionOptions>
{
    private static readonly TimeSpan LongestCoalesceWindow = TimeSpan.FromSeconds(10);

    public ValidateOptionsResult Validate(string? name, IngestionOptions options)
    {
        var problems = new List<string>();
        void AtLeast(string setting, int value, int least)
        {
            if (value < least)
            {
                problems.Add($"{IngestionOptions.Section}:{setting} must be at least {least} (it is {value}).");
            }
        }

        AtLeast(nameof(options.MaxPendingEvents), options.MaxPendingEvents, 1);
        AtLeast(nameof(options.MaxEventsPerCommit), options.MaxEventsPerCommit, 1);
        AtLeast(nameof(options.ConcurrentCommitsOnPostgreSql), options.ConcurrentCommitsOnPostgreSql, 1);
        AtLeast(nameof(options.ConcurrentDrains), options.ConcurrentDrains, 1);
        AtLeast(nameof(options.BusyAtConcurrentRequests), options.BusyAtConcurrentRequests, 0);
        AtLeast(nameof(options.SaturatedAtBacklogGrowth), options.SaturatedAtBacklogGrowth, 0);
        if (options.DrainCoalesceWindow < TimeSpan.Zero || options.DrainCoalesceWindow > LongestCoalesceWindow)
        {
            problems.Add($"{IngestionOptions.Section}:{nameof(options.DrainCoalesceWindow)} must be between 00:00:00 and {LongestCoalesceWindow:c} (it is {options.DrainCoalesceWindow:c}).");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
