namespace Modulith.Ingestion.Dispatch;

/// <summary>
/// Spaces one partition's drains by the coalescing window, so that each drain collects more events: fewer transactions,
/// and one state write per customer for all of its events in the window instead of one per event.
/// While ingestion is quiet, drains start at most once per window and new events wait only for the rest of the window
/// that began with the last drain: a partition quiet for a window drains at once. While ingestion is busy, a partition
/// rests a whole window after each drain ends, leaving more of the machine and the database's write lock to ingestion.
/// </summary>
internal sealed class DrainPacing(TimeSpan window, TimeProvider clock)
{
    private long _lastDrainStarted;
    private long _lastDrainEnded;

    /// <summary>How long the next drain waits: the rest of the window since the last drain started, or ended while ingestion is busy.</summary>
    public TimeSpan WaitBeforeNextDrain(bool ingestionBusy)
    {
        var since = ingestionBusy ? _lastDrainEnded : _lastDrainStarted;
        if (since == 0 || window <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var elapsed = clock.GetElapsedTime(since);
        return elapsed < window ? window - elapsed : TimeSpan.Zero;
    }

    public void DrainStarted() => _lastDrainStarted = clock.GetTimestamp();

    public void DrainEnded() => _lastDrainEnded = clock.GetTimestamp();
}
