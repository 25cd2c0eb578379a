using DistillSpec.Backends;
using DistillSpec.Training;

namespace DistillSpec.Bench;

/// <summary>
/// One product of a training step, C (m, n) = A · B^T in Gemm's terms: A stored (m, k), or (k, m)
/// when ATransposed; B stored (n, k), or (k, n) when BTransposed. The arrays are the layer's real
/// x (tokens, in), W (out, in) and dy (tokens, out), shared by its three products.
/// </summary>
internal sealed record TrainProduct(string Model, string Layer, string Kind, int Tokens, int M, int N, int K,
    float[] A, bool ATransposed, float[] B, bool BTransposed)
{
    public double Flops => 2.0 * M * N * K;
    public int Lda => ATransposed ? M : K;
    public int Ldb => BTransposed ? N : K;

    /// <summary>cblas_sgemm's TransA, TransB for the same product from the same memory (its B is (k, n) untransposed).</summary>
    public string CblasFlags => $"{(ATransposed ? "Trans" : "NoTrans")},{(BTransposed ? "NoTrans" : "Trans")}";
}

internal sealed record TrainGemmResult(TrainProduct Product, int Threads, double OursSeconds, double OpenBlasSeconds, double MaxAbsDiff)
{
    public double OursGflops => Product.Flops / OursSeconds / 1e9;
    public double OpenBlasGflops => Product.Flops / OpenBlasSeconds / 1e9;
    public double Ratio => OpenBlasSeconds / OursSeconds;
}

internal static class TrainGemmPeers
{
    /// <summary>Forward y = x·W^T, dX = dY·W and dW = dY^T·X of each distinct linear of a Llama layer and the output head.</summary>
    public static List<TrainProduct> Products(string model, int hidden, int kvDim, int intermediate, int vocab, int[] tokenCounts)
    {
        var linears = new (string Name, int In, int Out)[]
        {
            ("q, o", hidden, hidden), ("k, v", hidden, kvDim), ("gate, up", hidden, intermediate), ("down", intermediate, hidden), ("lm head", hidden, vocab),
        };
        var random = new Random(11);
        var products = new List<TrainProduct>();
        foreach (int t in tokenCounts)
            foreach (var (name, inDim, outDim) in linears)
            {
                float[] x = RandomArray(random, t * inDim), w = RandomArray(random, outDim * inDim), dy = RandomArray(random, t * outDim);
                products.Add(new TrainProduct(model, name, "y = x·W^T", t, t, outDim, inDim, x, false, w, false));
                products.Add(new TrainProduct(model, name, "dX = dY·W", t, t, inDim, outDim, dy, false, w, true));
                products.Add(new TrainProduct(model, name, "dW = dY^T·X", t, outDim, inDim, t, dy, true, x, true));
            }
        return products;
    }

    public static List<TrainGemmResult> Run(OpenBlas blas, int[] threadCounts, List<TrainProduct> products)
    {
        var results = new List<TrainGemmResult>();
        foreach (int threads in threadCounts)
        {
            // All of ours, then all of OpenBLAS: its idle threads spin for a while after each call
            // and would otherwise take cores from our next measurement.
            var ours = new List<(double Seconds, float[] C)>();
            using (var pool = new WorkerPool(threads))
            {
                var gemm = new Gemm(pool);
                foreach (var p in products)
                {
                    var c = new float[p.M * p.N];
                    var op = new Gemm.Operands(p.A, 0, p.Lda, p.ATransposed, p.B, 0, p.Ldb, p.BTransposed, c, 0, p.N, p.K, false);
                    ours.Add((Timing.BestSeconds(() => gemm.Multiply(op, p.M, p.N)), c));
                }
            }
            blas.Threads = threads;
            for (int i = 0; i < products.Count; i++)
            {
                var p = products[i];
                var reference = new float[p.M * p.N];
                double seconds = Timing.BestSeconds(() => blas.Sgemm(p.ATransposed, p.A, p.Lda, !p.BTransposed, p.B, p.Ldb, reference, p.M, p.N, p.K));
                double diff = 0;
                for (int j = 0; j < reference.Length; j++) diff = Math.Max(diff, Math.Abs(ours[i].C[j] - reference[j]));
                results.Add(new TrainGemmResult(p, threads, ours[i].Seconds, seconds, diff));
                ours[i] = default;
            }
        }
        return results;
    }

    private static float[] RandomArray(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)random.NextDouble() - 0.5f;
        return a;
    }
}
