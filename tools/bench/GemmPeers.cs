using DistillSpec.Backends;

namespace DistillSpec.Bench;

/// <param name="MaxAbsDiff">Largest |ours - OpenBLAS| over the output, a check that both computed the same product.</param>
internal sealed record GemmResult(int Threads, int M, int K, int N, double OursGflops, double OpenBlasGflops, double MaxAbsDiff)
{
    public double Ratio => OursGflops / OpenBlasGflops;
}

/// <summary>Our SimdBackend.MatMul against OpenBLAS's cblas_sgemm on the same y = x W^T, same threads.</summary>
internal static class GemmPeers
{
    private sealed record Problem(int M, int K, int N, float[] X, float[] W);

    public static List<GemmResult> Run(OpenBlas blas, int[] threadCounts, int[] rowCounts, IReadOnlyList<(int K, int N)> weights)
    {
        var random = new Random(5);
        var problems = (from kn in weights
                        let w = RandomArray(random, kn.N * kn.K)
                        from m in rowCounts
                        select new Problem(m, kn.K, kn.N, RandomArray(random, m * kn.K), w)).ToList();
        var results = new List<GemmResult>();
        foreach (int threads in threadCounts)
        {
            // All of ours, then all of OpenBLAS: its idle threads spin for a while after each call
            // and would otherwise take cores from our next measurement.
            var ours = problems.Select(p => Ours(p, threads)).ToList();
            blas.Threads = threads;
            for (int i = 0; i < problems.Count; i++)
            {
                var p = problems[i];
                var reference = new float[p.M * p.N];
                double seconds = Timing.BestSeconds(() => blas.MatMulTransposed(p.X, p.M, p.K, p.W, p.N, reference));
                double diff = ours[i].Y.Zip(reference, (a, b) => (double)Math.Abs(a - b)).Max();
                results.Add(new GemmResult(threads, p.M, p.K, p.N, Gflops(p, ours[i].Seconds), Gflops(p, seconds), diff));
            }
        }
        return results;
    }

    private static (double Seconds, float[] Y) Ours(Problem p, int threads)
    {
        using var backend = new SimdBackend(threads);
        using var x = backend.Upload(p.X);
        using var w = backend.Upload(p.W);
        using var y = backend.Allocate(p.M * p.N);
        double seconds = Timing.BestSeconds(() => backend.MatMul(x, p.M, p.K, w, p.N, null, y));
        var result = new float[p.M * p.N];
        backend.Download(y, 0, result);
        return (seconds, result);
    }

    private static double Gflops(Problem p, double seconds) => 2.0 * p.M * p.N * p.K / seconds / 1e9;

    private static float[] RandomArray(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)random.NextDouble() - 0.5f;
        return a;
    }
}
