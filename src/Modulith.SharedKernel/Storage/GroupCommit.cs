using System.Threading.Channels;

namespace Modulith.SharedKernel.Storage;

/// <summary>
/// Group commit for writes made on the hot path: concurrent callers' items are written together in one transaction,
/// and each caller's task completes only when its items are committed (or fails with the commit), so durability is
/// that of a write of its own at a fraction of the transactions.
/// </summary>
/// <typeparam name="T">An item to write.</typeparam>
public sealed class GroupCommit<T>
{
    private readonly Func<IReadOnlyList<T>, Task> _commit;
    private readonly int _maxItems;
    private readonly Channel<(IReadOnlyList<T> Items, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(IReadOnlyList<T>, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Starts the writer loop.</summary>
    /// <param name="commit">Writes the items in one transaction.</param>
    /// <param name="maxItems">At most this many items per transaction.</param>
    public GroupCommit(Func<IReadOnlyList<T>, Task> commit, int maxItems = 5_000)
    {
        _commit = commit;
        _maxItems = maxItems;
        _ = Task.Run(LoopAsync);
    }

    /// <summary>Queues the items; completes when they are committed.</summary>
    public Task WriteAsync(IReadOnlyList<T> items)
    {
        if (items.Count == 0)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((items, done)))
        {
            done.SetException(new InvalidOperationException("The writer has stopped."));
        }

        return done.Task;
    }

    private async Task LoopAsync()
    {
        var waiting = new List<TaskCompletionSource>();
        var items = new List<T>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (items.Count < _maxItems && _queue.Reader.TryRead(out var request))
            {
                items.AddRange(request.Items);
                waiting.Add(request.Done);
            }

            try
            {
                await _commit(items);
                foreach (var done in waiting)
                {
                    done.SetResult();
                }
            }
            catch (Exception exception)
            {
                foreach (var done in waiting)
                {
                    done.SetException(exception);
                }
            }

            items.Clear();
            waiting.Clear();
        }
    }
}
