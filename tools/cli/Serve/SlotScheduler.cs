using System.Threading.Channels;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// Admits at most slots + queue requests at once and hands free slots to waiting requests in
/// arrival order. A request beyond that bound is refused at once (429) rather than left to wait
/// without limit; a waiting request whose client leaves gives up its place.
/// </summary>
internal sealed class SlotScheduler
{
    // Free slots. Readers blocked on an empty channel are served first come, first served.
    private readonly Channel<ModelSlot> _free = Channel.CreateUnbounded<ModelSlot>();
    private readonly int _capacity;
    private int _admitted, _running;

    public SlotScheduler(IReadOnlyList<ModelSlot> slots, int queue)
    {
        ArgumentOutOfRangeException.ThrowIfZero(slots.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(queue);
        foreach (var slot in slots) _free.Writer.TryWrite(slot);
        Slots = slots.Count;
        _capacity = slots.Count + queue;
    }

    public int Slots { get; }

    public int QueueCapacity => _capacity - Slots;

    /// <summary>Requests generating now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Admitted requests still waiting for a slot: the queue depth.</summary>
    public int Waiting => Math.Max(Volatile.Read(ref _admitted) - Running, 0);

    /// <summary>A place in the queue, or null when it is full. Dispose the ticket when the request ends.</summary>
    public Ticket? TryAdmit()
    {
        if (Interlocked.Increment(ref _admitted) <= _capacity) return new Ticket(this);
        Interlocked.Decrement(ref _admitted);
        return null;
    }

    internal sealed class Ticket(SlotScheduler scheduler) : IDisposable
    {
        private ModelSlot? _slot;
        private int _disposed;

        /// <summary>Waits for a free slot, in arrival order; the slot is the ticket's until it is disposed.</summary>
        public async ValueTask<ModelSlot> AcquireAsync(CancellationToken cancellationToken)
        {
            if (_slot is not null) throw new InvalidOperationException("a ticket holds one slot");
            _slot = await scheduler._free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref scheduler._running);
            return _slot;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (_slot is not null)
            {
                Interlocked.Decrement(ref scheduler._running);
                scheduler._free.Writer.TryWrite(_slot);
            }
            Interlocked.Decrement(ref scheduler._admitted);
        }
    }
}
