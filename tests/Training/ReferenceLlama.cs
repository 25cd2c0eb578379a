using DistillSpec.Models;

namespace DistillSpec.Tests.Training;

/// <summary>
/// An independent double-precision Llama forward, written as plain loops straight from the math,
/// with parameters looked up by name so finite differences can perturb any of them in double.
/// It is the oracle the float training kernels are checked against.
/// </summary>
internal sealed class ReferenceLlama
{
    private readonly ModelConfig _c;

    public ReferenceLlama(ModelWeights weights)
    {
        _c = weights.Config;
        Parameters = weights.Parameters().ToDictionary(p => p.Name, p => p.Data.Select(x => (double)x).ToArray());
    }

    public Dictionary<string, double[]> Parameters { get; }

    private double[] P(string name) => Parameters[name];
    private double[]? Maybe(string name) => Parameters.GetValueOrDefault(name);

    /// <summary>logits (B*T, V) for tokens (B, T).</summary>
    public double[] Logits(int[] tokens, int batch, int seqLen)
    {
        int n = batch * seqLen, d = _c.HiddenSize;
        var x = Embedding(tokens, P("embedding"), d);
        for (int l = 0; l < _c.Layers; l++)
        {
            string p = $"layers.{l}.";
            var h = RmsNorm(x, P(p + "attention_norm"), n, d, _c.NormEps);
            var q = MatMul(h, n, d, P(p + "query"), _c.QDim, Maybe(p + "query_bias"));
            var k = MatMul(h, n, d, P(p + "key"), _c.KvDim, Maybe(p + "key_bias"));
            var v = MatMul(h, n, d, P(p + "value"), _c.KvDim, Maybe(p + "value_bias"));
            Rope(q, n, seqLen, _c.Heads, _c.HeadDim, _c.RopeTheta);
            Rope(k, n, seqLen, _c.KvHeads, _c.HeadDim, _c.RopeTheta);
            var a = Attention(q, k, v, batch, seqLen, _c.Heads, _c.KvHeads, _c.HeadDim);
            Add(x, MatMul(a, n, _c.QDim, P(p + "output"), d, Maybe(p + "output_bias")));
            var h2 = RmsNorm(x, P(p + "mlp_norm"), n, d, _c.NormEps);
            var gate = MatMul(h2, n, d, P(p + "gate"), _c.IntermediateSize, Maybe(p + "gate_bias"));
            var up = MatMul(h2, n, d, P(p + "up"), _c.IntermediateSize, Maybe(p + "up_bias"));
            Add(x, MatMul(SwiGlu(gate, up), n, _c.IntermediateSize, P(p + "down"), d, Maybe(p + "down_bias")));
        }
        var final = RmsNorm(x, P("final_norm"), n, d, _c.NormEps);
        return MatMul(final, n, d, Maybe("lm_head") ?? P("embedding"), _c.VocabSize, null);
    }

    public double Loss(int[] tokens, int batch, int seqLen, int[] targets) =>
        CrossEntropy(Logits(tokens, batch, seqLen), targets, _c.VocabSize);

    public static double[] Embedding(int[] tokens, double[] table, int dim)
    {
        var y = new double[tokens.Length * dim];
        for (int r = 0; r < tokens.Length; r++)
            for (int i = 0; i < dim; i++) y[r * dim + i] = table[tokens[r] * dim + i];
        return y;
    }

    public static double[] MatMul(double[] x, int rows, int inDim, double[] w, int outDim, double[]? b)
    {
        var y = new double[rows * outDim];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outDim; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inDim; i++) s += x[r * inDim + i] * w[o * inDim + i];
                y[r * outDim + o] = s;
            }
        return y;
    }

    public static double[] RmsNorm(double[] x, double[] g, int rows, int dim, double eps)
    {
        var y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
            double inv = 1 / Math.Sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * inv * g[i];
        }
        return y;
    }

    public static void Rope(double[] x, int rows, int seqLen, int heads, int headDim, double theta)
    {
        int half = headDim / 2;
        var cos = new double[seqLen * half];
        var sin = new double[seqLen * half];
        for (int t = 0; t < seqLen; t++)
            for (int i = 0; i < half; i++)
            {
                double angle = t * Math.Pow(theta, -2.0 * i / headDim);
                (cos[t * half + i], sin[t * half + i]) = (Math.Cos(angle), Math.Sin(angle));
            }
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++)
                {
                    int at = (r * heads + h) * headDim + i, ti = r % seqLen * half + i;
                    double x0 = x[at], x1 = x[at + half];
                    x[at] = x0 * cos[ti] - x1 * sin[ti];
                    x[at + half] = x1 * cos[ti] + x0 * sin[ti];
                }
    }

    public static double[] Attention(double[] q, double[] k, double[] v, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        int qDim = heads * headDim, kvDim = kvHeads * headDim, group = heads / kvHeads;
        var y = new double[batch * seqLen * qDim];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int t = 0; t < seqLen; t++)
                {
                    var s = new double[t + 1];
                    int qAt = (b * seqLen + t) * qDim + h * headDim, kvOff = h / group * headDim;
                    double max = double.NegativeInfinity, z = 0;
                    for (int u = 0; u <= t; u++)
                    {
                        double dot = 0;
                        for (int i = 0; i < headDim; i++) dot += q[qAt + i] * k[(b * seqLen + u) * kvDim + kvOff + i];
                        s[u] = dot / Math.Sqrt(headDim);
                        max = Math.Max(max, s[u]);
                    }
                    for (int u = 0; u <= t; u++) z += s[u] = Math.Exp(s[u] - max);
                    for (int u = 0; u <= t; u++)
                        for (int i = 0; i < headDim; i++)
                            y[qAt + i] += s[u] / z * v[(b * seqLen + u) * kvDim + kvOff + i];
                }
        return y;
    }

    public static double[] SwiGlu(double[] gate, double[] up) =>
        gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();

    public static double CrossEntropy(double[] logits, int[] targets, int vocab)
    {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < targets.Length; r++)
        {
            if (targets[r] < 0) continue;
            double max = double.NegativeInfinity, z = 0;
            for (int i = 0; i < vocab; i++) max = Math.Max(max, logits[r * vocab + i]);
            for (int i = 0; i < vocab; i++) z += Math.Exp(logits[r * vocab + i] - max);
            sum += Math.Log(z) + max - logits[r * vocab + targets[r]];
            count++;
        }
        return sum / count;
    }

    private static void Add(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) x[i] += y[i];
    }
}

internal static class GradientCheck
{
    /// <summary>Central differences of f wrt every element of x (perturbed in place and restored).</summary>
    public static double[] Numeric(Func<double> f, double[] x, double h = 1e-5) =>
        Numeric(f, x, Enumerable.Range(0, x.Length).ToArray(), h);

    /// <summary>Central differences at the given indices only (the rest stay 0).</summary>
    public static double[] Numeric(Func<double> f, double[] x, int[] indices, double h = 1e-5)
    {
        var g = new double[x.Length];
        foreach (int i in indices)
        {
            double saved = x[i];
            x[i] = saved + h;
            double plus = f();
            x[i] = saved - h;
            double minus = f();
            x[i] = saved;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    /// <summary>
    /// Float analytic gradients against double numeric ones: every element within
    /// tolerance x the largest magnitude (llm.c's check, scaled so tiny gradients are not over-judged).
    /// </summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-8, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale,
                $"{what}[{i}]: numeric {expected[i]:G6}, analytic {actual[i]:G6} (tolerance {tolerance} x {scale:G3})");
    }

    /// <summary>At most count indices of [0, length), evenly strided with a seeded offset.</summary>
    public static int[] Sample(int length, int count, int seed)
    {
        if (length <= count) return Enumerable.Range(0, length).ToArray();
        int offset = new Random(seed).Next(length / count);
        return Enumerable.Range(0, count).Select(i => offset + (int)((long)i * length / count)).ToArray();
    }

    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, int[] indices, double tolerance, string what)
    {
        double scale = Math.Max(1e-8, indices.Max(i => Math.Abs(expected[i])));
        foreach (int i in indices)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale,
                $"{what}[{i}]: numeric {expected[i]:G6}, analytic {actual[i]:G6} (tolerance {tolerance} x {scale:G3})");
    }

    public static double[] Random(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (r.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static float[] ToFloat(double[] x) => x.Select(v => (float)v).ToArray();

    public static double[] ToDouble(float[] x) => x.Select(v => (double)v).ToArray();

    public static double Dot(double[] a, double[] b) => a.Select((x, i) => x * b[i]).Sum();
}
