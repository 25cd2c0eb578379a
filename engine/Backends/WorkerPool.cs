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
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private RangeJob? _job;
    private int _count, _parts, _remaining;
    private Exception? _failure;
    private volatile bool _stopping;

    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be at least 1");
        Threads = threads;
        _start = new SemaphoreSlim[threads - 1];
        _threads = new Thread[threads - 1];
        for (int w = 0; w < threads - 1; w++)
        {
            _start[w] = new SemaphoreSlim(0);
            int index = w + 1;
            _threads[w] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"engine-worker-{index}" };
            _threads[w].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs job over [0, count) split into at most Threads parts of at least minChunk items.</summary>
    public void For(int count, RangeJob job, int minChunk = 1)
    {
        int parts = Math.Clamp(count / Math.Max(1, minChunk), 1, Threads);
        if (parts == 1)
        {
            job.Run(0, count, 0);
            return;
        }
        _job = job;
        _count = count;
        _parts = parts;
        _failure = null;
        _remaining = parts - 1;
        _done.Reset();
        for (int w = 0; w < parts - 1; w++) _start[w].Release();
        job.Run(0, count / parts, 0);
        _done.Wait();
        _job = null;
        if (_failure is not null) throw new AggregateException("a worker thread failed", _failure);
    }

    private void Loop(int index)
    {
        while (true)
        {
            _start[index - 1].Wait();
            if (_stopping) return;
            try
            {
                _job!.Run((int)((long)_count * index / _parts), (int)((long)_count * (index + 1) / _parts), index);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var s in _start) s.Release();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}
