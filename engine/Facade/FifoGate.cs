namespace DistillSpec;

/// <summary>
/// Mutual exclusion that admits waiters in arrival order (SemaphoreSlim does not promise an order),
/// with the number waiting visible for queue metrics. One holder at a time: a loaded model's
/// scratch buffers, KV caches and worker pool serve one generation at a time.
/// </summary>
internal sealed class FifoGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiting = new();
    private bool _held;

    /// <summary>Callers queued behind the current holder.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock) return _waiting.Count;
        }
    }

    /// <summary>Waits for the gate; the returned handle releases it. A cancelled wait leaves the queue.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource turn;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (!_held)
            {
                _held = true;
                return new Release(this);
            }
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiting.AddLast(turn);
        }
        await using (cancellationToken.Register(() => Abandon(node)))
            await turn.Task.ConfigureAwait(false);
        return new Release(this);
    }

    // A cancelled waiter still in the queue leaves it; one already handed the gate keeps it, and
    // its EnterAsync completes normally, so the caller's using-block releases it.
    private void Abandon(LinkedListNode<TaskCompletionSource> node)
    {
        lock (_lock)
        {
            if (node.List is null) return;
            _waiting.Remove(node);
        }
        node.Value.TrySetCanceled();
    }

    private void Exit()
    {
        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                next = first.Value;
            }
            else _held = false;
        }
        next?.SetResult();
    }

    private sealed class Release(FifoGate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Exit();
        }
    }
}
