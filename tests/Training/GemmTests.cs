using DistillSpec.Backends;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

/// <summary>
/// The training GEMM against two oracles: a scalar chain of FMAs over k in order, which it must
/// match bit for bit (its determinism promise: each element is that chain, whatever tile or
/// thread it falls in), and a double-precision product, which the chain must approach.
/// </summary>
public class GemmTests
{
    // C (m, n) = A B^T with A (m, k) or, transposed, stored (k, m); B (n, k) or stored (k, n).
    private sealed record Case(int M, int N, int K, bool ATransposed, bool BTransposed, bool Accumulate)
    {
        public int Lda => ATransposed ? M : K;
        public int Ldb => BTransposed ? N : K;
        public float A(float[] a, int i, int k) => ATransposed ? a[k * Lda + i] : a[i * Lda + k];
        public float B(float[] b, int j, int k) => BTransposed ? b[k * Ldb + j] : b[j * Ldb + k];
    }

    private static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] FmaChain(Case c, float[] a, float[] b, float[] c0)
    {
        var expected = new float[c.M * c.N];
        for (int i = 0; i < c.M; i++)
            for (int j = 0; j < c.N; j++)
            {
                float s = c.Accumulate ? c0[i * c.N + j] : 0f;
                for (int k = 0; k < c.K; k++) s = MathF.FusedMultiplyAdd(c.A(a, i, k), c.B(b, j, k), s);
                expected[i * c.N + j] = s;
            }
        return expected;
    }

    private static float[] Multiply(Case c, float[] a, float[] b, float[] c0, int threads)
    {
        using var pool = new WorkerPool(threads);
        var result = (float[])c0.Clone();
        new Gemm(pool).Multiply(new Gemm.Operands(a, 0, c.Lda, c.ATransposed, b, 0, c.Ldb, c.BTransposed, result, 0, c.N, c.K, c.Accumulate), c.M, c.N);
        return result;
    }

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 40, 7 }, { 13, 35, 1 }, { 12, 32, 256 }, { 25, 33, 257 }, { 37, 70, 301 }, { 50, 7, 513 }, { 3, 100, 64 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryLayoutIsTheInOrderFmaChainAndCloseToTheExactProduct(int m, int n, int k)
    {
        foreach (bool aT in new[] { false, true })
            foreach (bool bT in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    var c = new Case(m, n, k, aT, bT, accumulate);
                    float[] a = Random(m * k, 1), b = Random(n * k, 2), c0 = Random(m * n, 3);
                    var result = Multiply(c, a, b, c0, threads: 1);
                    Assert.Equal(FmaChain(c, a, b, c0), result);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double exact = accumulate ? c0[i * n + j] : 0, magnitude = Math.Abs(exact);
                            for (int p = 0; p < k; p++)
                            {
                                exact += (double)c.A(a, i, p) * c.B(b, j, p);
                                magnitude += Math.Abs((double)c.A(a, i, p) * c.B(b, j, p));
                            }
                            Assert.True(Math.Abs(result[i * n + j] - exact) <= 1e-6 * k * magnitude + 1e-30,
                                $"{c}: C[{i},{j}] = {result[i * n + j]}, exact {exact}");
                        }
                }
    }

    // Both split directions (m >= n splits rows, m < n columns), with edge tiles on each side.
    [Theory]
    [InlineData(200, 100, 300)]
    [InlineData(90, 260, 300)]
    public void ResultsAreBitIdenticalOnAnyThreadCount(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var c = new Case(m, n, k, transposed, transposed, Accumulate: true);
            float[] a = Random(m * k, 4), b = Random(n * k, 5), c0 = Random(m * n, 6);
            var one = Multiply(c, a, b, c0, threads: 1);
            Assert.Equal(FmaChain(c, a, b, c0), one);
            Assert.Equal(one, Multiply(c, a, b, c0, threads: 2));
            Assert.Equal(one, Multiply(c, a, b, c0, threads: 3));
        }
    }

    [Fact]
    public void EmptyKClearsOrKeepsC()
    {
        using var pool = new WorkerPool(1);
        var gemm = new Gemm(pool);
        float[] c = [1, 2, 3, 4, 5, 6];
        gemm.Multiply([], [], c, 2, 3, 0, accumulate: true);
        Assert.Equal([1f, 2, 3, 4, 5, 6], c);
        gemm.Multiply([], [], c, 2, 3, 0, accumulate: false);
        Assert.Equal(new float[6], c);
    }

    // Sub-matrices with offsets and strides, as attention's causal blocks use: only the block changes.
    [Fact]
    public void MultiplyHereWritesOnlyItsBlockOfAStridedC()
    {
        int m = 5, n = 9, k = 20, lda = 23, ldb = 21, ldc = 15;
        float[] a = Random(3 + m * lda, 7), b = Random(2 + n * ldb, 8), c = Random(4 + m * ldc, 9);
        var before = (float[])c.Clone();
        Gemm.MultiplyHere(new Gemm.Operands(a, 3, lda, false, b, 2, ldb, false, c, 4, ldc, k, false), m, n);
        for (int i = 0; i < c.Length; i++)
        {
            int row = (i - 4) / ldc, column = (i - 4) % ldc;
            bool inside = i >= 4 && row < m && column < n;
            if (!inside) Assert.Equal(before[i], c[i]);
            else
            {
                float s = 0;
                for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[3 + row * lda + p], b[2 + column * ldb + p], s);
                Assert.Equal(s, c[i]);
            }
        }
    }

    [Fact]
    public void OperandsTooSmallForTheShapeAreRefused()
    {
        using var pool = new WorkerPool(1);
        var gemm = new Gemm(pool);
        var e = Assert.Throws<ArgumentException>(() => gemm.Multiply(new float[11], new float[12], new float[9], 3, 3, 4, accumulate: false));
        Assert.Contains("A (11 floats)", e.Message);
        Assert.Throws<ArgumentException>(() => gemm.Multiply(new Gemm.Operands(new float[12], 0, 3, true, new float[12], 0, 4, true, new float[12], 0, 4, 4, false), 3, 4));
    }
}
