using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Bench;

/// <summary>
/// The machine's read bandwidth: the faster of two vectorised sums streaming a buffer far
/// larger than the caches (TensorPrimitives.Sum, and an unrolled loop that also prefetches
/// ahead in software, as our matrix-vector kernel does), split over the same number of threads
/// as the engine uses. Best of several passes.
/// </summary>
internal static class MemoryBandwidth
{
    public static double ReadGBps(float[] buffer, int threads, int passes = 10) =>
        Math.Max(Measure(buffer, threads, passes, s => TensorPrimitives.Sum(s)), Measure(buffer, threads, passes, PrefetchedSum));

    private static double Measure(float[] buffer, int threads, int passes, SumOf sum)
    {
        double best = 0;
        var partial = new float[threads];
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long start = (long)buffer.Length * t / threads, end = (long)buffer.Length * (t + 1) / threads;
                partial[t] = sum(new ReadOnlySpan<float>(buffer, (int)start, (int)(end - start)));
            });
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, buffer.Length * 4.0 / seconds / 1e9);
        }
        GC.KeepAlive(partial.Sum());
        return best;
    }

    private delegate float SumOf(ReadOnlySpan<float> values);

    // Four independent accumulators over 32 floats (two cache lines) a step, requesting the
    // lines 4 KB ahead.
    private static unsafe float PrefetchedSum(ReadOnlySpan<float> values)
    {
        const int Ahead = 1024;
        fixed (float* p = values)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int n = values.Length, i = 0;
            for (; i + 32 <= n; i += 32)
            {
                if (Sse.IsSupported && i + Ahead + 32 <= n)
                {
                    Sse.Prefetch0(p + i + Ahead);
                    Sse.Prefetch0(p + i + Ahead + 16);
                }
                a0 += Vector256.Load(p + i);
                a1 += Vector256.Load(p + i + 8);
                a2 += Vector256.Load(p + i + 16);
                a3 += Vector256.Load(p + i + 24);
            }
            float s = Vector256.Sum(a0 + a1 + a2 + a3);
            for (; i < n; i++) s += p[i];
            return s;
        }
    }
}
