using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends;

public class WorkerPoolTests
{
    // Counts how often each item ran and which workers took part.
    private sealed class CountingJob(int items) : RangeJob
    {
        public int[] Runs { get; } = new int[items];
        public int[] ItemsByWorker { get; } = new int[8];

        public override void Run(int start, int end, int worker)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref Runs[i]);
            Interlocked.Add(ref ItemsByWorker[worker], end - start);
        }
    }

    // Records every chunk's start, to check where balanced calls cut the range.
    private sealed class ChunkJob(int items) : RangeJob
    {
        public int[] Runs { get; } = new int[items];
        public System.Collections.Concurrent.ConcurrentBag<int> Starts { get; } = [];

        public override void Run(int start, int end, int worker)
        {
            Starts.Add(start);
            for (int i = start; i < end; i++) Interlocked.Increment(ref Runs[i]);
        }
    }

    private sealed class ThrowingJob(int failingWorker) : RangeJob
    {
        public override void Run(int start, int end, int worker)
        {
            if (worker == failingWorker) throw new InvalidOperationException($"worker {worker} failed");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryItemRunsExactlyOnceWhateverTheSplit(int threads)
    {
        using var pool = new WorkerPool(threads);
        // Calls that use all, some and none of the workers, back to back, so an idle worker
        // sees later calls while its last ticket is old.
        foreach (var (count, minChunk) in new[] { (1000, 1), (3, 1), (1, 1), (17, 8), (64, 100), (5, 2), (999, 1), (2, 1) })
        {
            var job = new CountingJob(count);
            pool.For(count, job, minChunk);
            Assert.All(job.Runs, r => Assert.Equal(1, r));
            int parts = Math.Clamp(count / minChunk, 1, threads);
            Assert.Equal(parts, job.ItemsByWorker.Count(n => n > 0));
        }
    }

    [Fact]
    public void WorkersThatBlockedAfterIdlingStillWake()
    {
        using var pool = new WorkerPool(3);
        for (int round = 0; round < 3; round++)
        {
            Thread.Sleep(5); // past the spin time, so the workers block on their semaphores
            var job = new CountingJob(300);
            pool.For(300, job);
            Assert.All(job.Runs, r => Assert.Equal(1, r));
            Assert.All(job.ItemsByWorker.Take(3), n => Assert.Equal(100, n));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void AFailureOnAnyThreadIsRaisedAndThePoolStaysUsable(int failingWorker)
    {
        using var pool = new WorkerPool(2);
        var error = Record.Exception(() => pool.For(10, new ThrowingJob(failingWorker)));
        Assert.NotNull(error);
        Assert.Contains($"worker {failingWorker} failed", error is AggregateException a ? a.InnerException!.Message : error.Message);
        var job = new CountingJob(10);
        pool.For(10, job);
        Assert.All(job.Runs, r => Assert.Equal(1, r));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void BalancedCallsCoverEveryItemOnceInAlignedChunks(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (var (count, minChunk, align) in new[] { (512, 8, 8), (8192, 8, 8), (37, 1, 8), (1536, 2, 8), (4, 1, 1), (100, 30, 1), (1, 1, 1) })
        {
            var job = new ChunkJob(count);
            pool.For(count, job, minChunk, balance: true, align: align);
            Assert.All(job.Runs, r => Assert.Equal(1, r));
            Assert.All(job.Starts, start => Assert.Equal(0, start % align));
            int parts = Math.Clamp(count / minChunk, 1, threads);
            Assert.InRange(job.Starts.Count, parts, Math.Max(parts, Math.Min(count / minChunk, parts * 4)));
        }
    }

    [Fact]
    public void BalancedCallsNeedNoLateWorkerAndLeaveThePoolConsistent()
    {
        // Workers left idle past the spin time block, so a balanced call often finishes before
        // they wake: it closes them instead of waiting. Whichever way each race goes, no item may
        // run twice or be missed, in that call or in the balanced and unbalanced calls after it.
        using var pool = new WorkerPool(3);
        var random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            if (round % 10 == 0) Thread.Sleep(2);
            int count = random.Next(1, 400);
            bool balance = random.Next(3) > 0;
            var job = new CountingJob(count);
            pool.For(count, job, 1, balance, align: balance ? 4 : 1);
            Assert.All(job.Runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void ABalancedCallRaisesAWorkersFailure()
    {
        using var pool = new WorkerPool(2);
        var error = Record.Exception(() => pool.For(64, new ThrowingJob(0), balance: true));
        Assert.NotNull(error);
        var job = new CountingJob(64);
        pool.For(64, job, balance: true);
        Assert.All(job.Runs, r => Assert.Equal(1, r));
    }
}
