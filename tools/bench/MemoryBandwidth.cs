using System.Diagnostics;
using System.Numerics.Tensors;

namespace DistillSpec.Bench;

/// <summary>
/// The machine's read bandwidth: a vectorised sum streaming a buffer far larger than the
/// caches, split over the same number of threads as the engine uses. Best of several passes.
/// </summary>
internal static class MemoryBandwidth
{
    public static double ReadGBps(float[] buffer, int threads, int passes = 5)
    {
        double best = 0;
        var partial = new float[threads];
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long start = (long)buffer.Length * t / threads, end = (long)buffer.Length * (t + 1) / threads;
                partial[t] = TensorPrimitives.Sum(new ReadOnlySpan<float>(buffer, (int)start, (int)(end - start)));
            });
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, buffer.Length * 4.0 / seconds / 1e9);
        }
        GC.KeepAlive(partial.Sum());
        return best;
    }
}
