using Microsoft.Extensions.Logging;

namespace Modulith.Leads.Routing;

/// <summary>
/// Warns about qualified leads that no rep could take without a warning per lead: a workspace with no sales reps (one
/// that uses the leads for marketing only) would otherwise log one for every SQL. The first lead of a workspace is logged
/// at once; the next ones within a minute are counted and reported with the first one after the minute. Each lead's
/// history still records why it was not assigned.
/// </summary>
internal sealed partial class UnassignedLeadLog(TimeProvider clock, ILogger<UnassignedLeadLog> logger)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Window> _workspaces = new(StringComparer.Ordinal);

    public void Unassigned(string workspaceId, string leadId, string reason)
    {
        var now = clock.GetUtcNow();
        Window? previous;
        lock (_workspaces)
        {
            if (_workspaces.TryGetValue(workspaceId, out previous) && now - previous.LoggedAt < Quiet)
            {
                previous.NotLogged++;
                return;
            }

            _workspaces[workspaceId] = new Window(now);
        }

        if (previous is { NotLogged: > 0 })
        {
            LogUnassignedWithOthers(workspaceId, leadId, reason, previous.NotLogged, previous.LoggedAt);
        }
        else
        {
            LogUnassigned(workspaceId, leadId, reason);
        }
    }

    private sealed class Window(DateTimeOffset loggedAt)
    {
        public DateTimeOffset LoggedAt { get; } = loggedAt;

        public int NotLogged { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lead {LeadId} of workspace {WorkspaceId} could not be assigned: {Reason}")]
    private partial void LogUnassigned(string workspaceId, string leadId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lead {LeadId} of workspace {WorkspaceId} could not be assigned: {Reason} {NotLogged} more leads of the workspace could not be assigned since {Since:O}; each lead's history says why.")]
    private partial void LogUnassignedWithOthers(string workspaceId, string leadId, string reason, int notLogged, DateTimeOffset since);
}
