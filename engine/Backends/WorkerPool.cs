using System.Diagnostics;

namespace DistillSpec.Backends;

/// <summary>A unit of data-parallel work: process items [start, end) on worker `worker`.</summary>
internal abstract class RangeJob
{
    public abstract void Run(int start, int end, int worker);
}

/// <summary>
/// Persistent threads that split a range between them. Jobs are preallocated objects and the
/// pool keeps no per-call state on the heap, so a decode step allocates nothing.
/// </summary>
/// <remarks>
/// A decode step is ~50 calls a few microseconds apart, and waking a blocked thread costs about
/// as much as a small call's work, so that two threads were slower than one on small models.
/// Each worker therefore has a ticket it spins on for a while (SpinTime) before it blocks on its
/// semaphore, and the caller spins for the stragglers. Only the workers a call uses get a new
/// ticket, so an idle one can never mistake a later call for its own. Before blocking, a worker
/// raises its Sleeping flag and reads its ticket again, both with full fences, as the caller
/// writes the ticket and then takes the flag; so a wake-up is never lost, and a spare release
/// only causes one spurious wake, which the loop absorbs.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private static readonly long SpinTime = Stopwatch.Frequency / 2000; // 0.5 ms
    private const int ChunksPerThread = 4;
    private const int Open = 0, Joined = 1, Closed = 2;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping, _tickets, _joined;
    private RangeJob? _job;
    private int _count, _chunks, _align, _next, _remaining, _round;
    private Exception? _failure;
    private volatile bool _stopping;
    private bool _balance;

    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be at least 1");
        Threads = threads;
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        _tickets = new int[threads - 1];
        _joined = new int[threads - 1];
        _threads = new Thread[threads - 1];
        for (int w = 0; w < threads - 1; w++)
        {
            _wake[w] = new SemaphoreSlim(0);
            int index = w + 1;
            _threads[w] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"engine-worker-{index}" };
            _threads[w].Start();
        }
    }

    public int Threads { get; }

    /// <summary>
    /// Runs job over [0, count) split into at most Threads parts of at least minChunk items, one per
    /// thread. With balance, into up to ChunksPerThread times as many chunks (of at least minChunk
    /// items, boundaries on multiples of align), which the threads take in turn until none is left:
    /// a worker that the OS has descheduled, or that is still waking, then holds up the call by at
    /// most its chunk in progress instead of its whole share (on a 2-core VM a verification pass
    /// took 16 ms instead of 4 about once in 20 calls). Chunk boundaries depend only on count,
    /// minChunk, align and Threads, never on which thread runs a chunk, so results do not either.
    /// Only for jobs whose Run writes disjoint outputs (no per-worker partial sums).
    /// </summary>
    public void For(int count, RangeJob job, int minChunk = 1, bool balance = false, int align = 1)
    {
        int parts = Math.Clamp(count / Math.Max(1, minChunk), 1, Threads);
        if (parts == 1)
        {
            job.Run(0, count, 0);
            return;
        }
        int chunks = balance ? Math.Clamp(count / Math.Max(1, minChunk), parts, parts * ChunksPerThread) : parts;
        _job = job;
        _count = count;
        _chunks = chunks;
        _align = Math.Max(1, align);
        _balance = balance;
        _next = 0;
        _failure = null;
        _remaining = parts - 1;
        int ticket = ++_round;
        for (int w = 0; w < parts - 1; w++)
        {
            Volatile.Write(ref _joined[w], Open);
            Volatile.Write(ref _tickets[w], ticket);
            if (Interlocked.Exchange(ref _sleeping[w], 0) == 1) _wake[w].Release();
        }
        try
        {
            for (int c = FirstChunk(0); c < chunks; c = NextChunk())
                job.Run(Boundary(c), Boundary(c + 1), 0);
        }
        finally
        {
            // Balanced, every chunk is done: a worker that has not joined yet (descheduled, or still
            // waking) is told not to, instead of being waited for.
            if (balance)
                for (int w = 0; w < parts - 1; w++)
                    if (Interlocked.CompareExchange(ref _joined[w], Closed, Open) == Open) Interlocked.Decrement(ref _remaining);
            // Even when our share throws, the workers finish theirs before the next call reuses
            // the counters. Pause-spin first: their share is about as long as ours.
            for (long spins = 0; Volatile.Read(ref _remaining) != 0; spins++)
                if (spins < 1 << 12) Thread.SpinWait(8);
                else Thread.Yield();
            _job = null;
        }
        if (_failure is not null) throw new AggregateException("a worker thread failed", _failure);
    }

    // Unbalanced, thread i runs chunk i alone; balanced, every chunk goes to whichever thread asks first.
    private int FirstChunk(int thread) => _balance ? NextChunk() : thread;

    private int NextChunk() => _balance ? Interlocked.Increment(ref _next) - 1 : int.MaxValue;

    // Start of chunk c: an even split of [0, count), rounded down to a multiple of align.
    private int Boundary(int c) => c >= _chunks ? _count : (int)((long)_count * c / _chunks) / _align * _align;

    private void Loop(int index)
    {
        int seen = 0;
        while (true)
        {
            seen = NextTicket(index - 1, seen);
            if (_stopping) return;
            // A call that finished without this worker closed it; the worker waits for the next.
            if (Interlocked.CompareExchange(ref _joined[index - 1], Joined, Open) != Open) continue;
            try
            {
                for (int c = FirstChunk(index); c < _chunks; c = NextChunk())
                    _job!.Run(Boundary(c), Boundary(c + 1), index);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            Interlocked.Decrement(ref _remaining);
        }
    }

    // Waits until worker w's ticket moves past `seen` (or the pool stops): spinning first, then blocking.
    private int NextTicket(int w, int seen)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            int now = Volatile.Read(ref _tickets[w]);
            if (now != seen || _stopping) return now;
            if (Stopwatch.GetTimestamp() - start < SpinTime)
            {
                Thread.SpinWait(8);
                continue;
            }
            Interlocked.Exchange(ref _sleeping[w], 1);
            now = Volatile.Read(ref _tickets[w]);
            if (now != seen || _stopping) return now;
            _wake[w].Wait();
            start = Stopwatch.GetTimestamp();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var s in _wake) s.Release();
        foreach (var t in _threads) t.Join();
        foreach (var s in _wake) s.Dispose();
    }
}
