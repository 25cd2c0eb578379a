using DistillSpec.Training;
using static DistillSpec.Tests.Training.GradientCheck;
using R = DistillSpec.Tests.Training.ReferenceLlama;

namespace DistillSpec.Tests.Training;

/// <summary>
/// Every layer's forward against the double reference, and its backward against central
/// differences of sum(dy * forward(x)) computed in double. Tolerance 1e-4 of the largest
/// gradient: the float kernels carry ~1e-7 relative rounding, the differences ~1e-9.
/// </summary>
public class TrainingKernelsTests
{
    private const double Tolerance = 1e-4;

    private static double[] Inputs(int n, int seed, double scale = 1) => ToDouble(ToFloat(Random(n, seed, scale)));

    [Theory]
    [InlineData(7, 13, 10)]
    [InlineData(4, 8, 4)]
    public void MatMulGradientsMatchFiniteDifferences(int rows, int inDim, int outDim)
    {
        double[] x = Inputs(rows * inDim, 1), w = Inputs(outDim * inDim, 2), b = Inputs(outDim, 3), dy = Inputs(rows * outDim, 4);
        using var k = new TrainingKernels(2);
        var y = new float[rows * outDim];
        k.MatMulForward(ToFloat(x), rows, inDim, ToFloat(w), outDim, ToFloat(b), y);
        AssertClose(R.MatMul(x, rows, inDim, w, outDim, b), y, 1e-5, "y");

        float[] dx = new float[rows * inDim], dw = new float[outDim * inDim], db = new float[outDim];
        k.MatMulBackward(ToFloat(dy), ToFloat(x), rows, inDim, ToFloat(w), outDim, dx, false, dw, db);
        double F() => Dot(dy, R.MatMul(x, rows, inDim, w, outDim, b));
        AssertClose(Numeric(F, x), dx, Tolerance, "dx");
        AssertClose(Numeric(F, w), dw, Tolerance, "dw");
        AssertClose(Numeric(F, b), db, Tolerance, "db");
    }

    // Large enough for 4 x 4 tiles, k-blocks and edges; the exact gradients are dy·W, dy^T·x, so no differences needed.
    [Fact]
    public void MatMulBackwardIsExactAndTheSameOnAnyThreadCount()
    {
        int rows = 37, inDim = 301, outDim = 70;
        double[] x = Inputs(rows * inDim, 5), w = Inputs(outDim * inDim, 6), dy = Inputs(rows * outDim, 7);
        var dxExpected = new double[rows * inDim];
        var dwExpected = new double[outDim * inDim];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outDim; o++)
                for (int i = 0; i < inDim; i++)
                {
                    dxExpected[r * inDim + i] += dy[r * outDim + o] * w[o * inDim + i];
                    dwExpected[o * inDim + i] += dy[r * outDim + o] * x[r * inDim + i];
                }
        float[]? firstDx = null, firstDw = null, firstY = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var k = new TrainingKernels(threads);
            float[] y = new float[rows * outDim], dx = new float[rows * inDim], dw = new float[outDim * inDim];
            k.MatMulForward(ToFloat(x), rows, inDim, ToFloat(w), outDim, null, y);
            k.MatMulBackward(ToFloat(dy), ToFloat(x), rows, inDim, ToFloat(w), outDim, dx, false, dw, null);
            AssertClose(R.MatMul(x, rows, inDim, w, outDim, null), y, 1e-5, "y");
            AssertClose(dxExpected, dx, 1e-5, "dx");
            AssertClose(dwExpected, dw, 1e-5, "dw");
            if (firstDx is null) (firstDx, firstDw, firstY) = (dx, dw, y);
            else
            {
                Assert.Equal(firstY, y);
                Assert.Equal(firstDx, dx);
                Assert.Equal(firstDw, dw);
            }
        }
    }

    [Fact]
    public void RmsNormGradientsMatchFiniteDifferences()
    {
        int rows = 3, dim = 10;
        double[] x = Inputs(rows * dim, 1), g = Inputs(dim, 2), dy = Inputs(rows * dim, 3);
        using var k = new TrainingKernels(2);
        float[] y = new float[rows * dim], rstd = new float[rows], dx = new float[rows * dim], dg = new float[dim];
        k.RmsNormForward(ToFloat(x), ToFloat(g), rows, dim, 1e-5f, y, rstd);
        AssertClose(R.RmsNorm(x, g, rows, dim, 1e-5), y, 1e-5, "y");
        k.RmsNormBackward(ToFloat(dy), ToFloat(x), ToFloat(g), rstd, rows, dim, dx, dg);
        double F() => Dot(dy, R.RmsNorm(x, g, rows, dim, 1e-5));
        AssertClose(Numeric(F, x), dx, Tolerance, "dx");
        AssertClose(Numeric(F, g), dg, Tolerance, "dg");
    }

    [Fact]
    public void RopeGradientMatchesFiniteDifferences()
    {
        int batch = 2, seqLen = 3, heads = 2, headDim = 8, rows = batch * seqLen, n = rows * heads * headDim;
        double[] x = Inputs(n, 1), dy = Inputs(n, 2);
        using var k = new TrainingKernels(2);
        var (cos, sin) = TrainingKernels.RopeTables(seqLen, headDim, 10000f);
        var y = ToFloat(x);
        k.RopeForward(y, rows, seqLen, heads, headDim, cos, sin);
        var expected = (double[])x.Clone();
        R.Rope(expected, rows, seqLen, heads, headDim, 10000);
        AssertClose(expected, y, 1e-5, "y");

        var dx = ToFloat(dy);
        k.RopeBackward(dx, rows, seqLen, heads, headDim, cos, sin);
        double F()
        {
            var r = (double[])x.Clone();
            R.Rope(r, rows, seqLen, heads, headDim, 10000);
            return Dot(dy, r);
        }
        AssertClose(Numeric(F, x), dx, Tolerance, "dx");
    }

    // 37 positions cross the kernel's 32-row causal blocks.
    [Theory]
    [InlineData(4, 2, 5)]
    [InlineData(2, 2, 5)]
    [InlineData(4, 2, 37)]
    public void AttentionGradientsMatchFiniteDifferences(int heads, int kvHeads, int seqLen)
    {
        int batch = 2, headDim = 4, n = batch * seqLen;
        double[] q = Inputs(n * heads * headDim, 1), kk = Inputs(n * kvHeads * headDim, 2), v = Inputs(n * kvHeads * headDim, 3);
        double[] dy = Inputs(n * heads * headDim, 4);
        using var k = new TrainingKernels(2);
        var probs = new float[batch * heads * seqLen * seqLen];
        var y = new float[n * heads * headDim];
        k.AttentionForward(ToFloat(q), ToFloat(kk), ToFloat(v), batch, seqLen, heads, kvHeads, headDim, probs, y);
        AssertClose(R.Attention(q, kk, v, batch, seqLen, heads, kvHeads, headDim), y, 1e-5, "y");

        float[] dq = new float[q.Length], dk = new float[kk.Length], dv = new float[v.Length];
        k.AttentionBackward(ToFloat(dy), ToFloat(q), ToFloat(kk), ToFloat(v), probs, batch, seqLen, heads, kvHeads, headDim, dq, dk, dv);
        double F() => Dot(dy, R.Attention(q, kk, v, batch, seqLen, heads, kvHeads, headDim));
        foreach (var (x, grad, name) in new[] { (q, dq, "dq"), (kk, dk, "dk"), (v, dv, "dv") })
        {
            var at = Sample(x.Length, 96, seed: name[1]);
            AssertClose(Numeric(F, x, at), grad, at, Tolerance, name);
        }
    }

    [Fact]
    public void SwiGluGradientsMatchFiniteDifferences()
    {
        int n = 21;
        double[] gate = Inputs(n, 1, 4), up = Inputs(n, 2), dy = Inputs(n, 3);
        using var k = new TrainingKernels(2);
        var y = new float[n];
        k.SwiGluForward(ToFloat(gate), ToFloat(up), n, y);
        AssertClose(R.SwiGlu(gate, up), y, 1e-5, "y");
        float[] dgate = new float[n], dup = new float[n];
        k.SwiGluBackward(ToFloat(dy), ToFloat(gate), ToFloat(up), n, dgate, dup);
        double F() => Dot(dy, R.SwiGlu(gate, up));
        AssertClose(Numeric(F, gate), dgate, Tolerance, "dgate");
        AssertClose(Numeric(F, up), dup, Tolerance, "dup");
    }

    [Fact]
    public void EmbeddingGradientAddsRepeatedTokens()
    {
        int vocab = 6, dim = 5;
        int[] tokens = [2, 0, 2, 5];
        double[] table = Inputs(vocab * dim, 1), dy = Inputs(tokens.Length * dim, 2);
        var y = new float[tokens.Length * dim];
        TrainingKernels.EmbeddingForward(tokens, ToFloat(table), dim, y);
        AssertClose(R.Embedding(tokens, table, dim), y, 0, "y");
        var dtable = new float[vocab * dim];
        TrainingKernels.EmbeddingBackward(tokens, ToFloat(dy), dim, dtable);
        AssertClose(Numeric(() => Dot(dy, R.Embedding(tokens, table, dim)), table), dtable, Tolerance, "dtable");
    }

    [Fact]
    public void CrossEntropyGradientMatchesFiniteDifferencesAndSkipsIgnoredRows()
    {
        int rows = 4, vocab = 7;
        int[] targets = [3, -1, 0, 6];
        double[] logits = Inputs(rows * vocab, 1, 3);
        using var k = new TrainingKernels(2);
        var losses = new float[rows];
        k.CrossEntropyForward(ToFloat(logits), targets, rows, vocab, losses);
        Assert.Equal(0f, losses[1]);
        Assert.Equal(R.CrossEntropy(logits, targets, vocab), losses.Sum() / 3, 5);
        var dlogits = new float[rows * vocab];
        k.CrossEntropyBackward(ToFloat(logits), targets, rows, vocab, 1f / 3, dlogits);
        AssertClose(Numeric(() => R.CrossEntropy(logits, targets, vocab), logits), dlogits, Tolerance, "dlogits");
    }
}
