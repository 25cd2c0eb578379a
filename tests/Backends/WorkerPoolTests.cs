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
}
