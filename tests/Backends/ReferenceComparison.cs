using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Runs one op on the scalar reference and on a backend under test with copies of the same
/// random inputs, and compares one of the tensors: the core of every cross-backend op test.
/// </summary>
internal sealed class ReferenceComparison(int seed = 1234)
{
    private readonly ScalarBackend _reference = new();
    private readonly Random _random = new(seed);

    public float[] RandomArray(int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(_random.NextDouble() * 2 - 1) * scale).ToArray();

    /// <summary>
    /// Runs op on both backends and compares tensor `checkIndex`; tolerance is relative to the
    /// output's scale. Input `matrix.Index`, when given, is a weight matrix uploaded in its format.
    /// </summary>
    public void Compare(IBackend backend, float[][] inputs, Action<IBackend, Tensor[]> op, int checkIndex, float tolerance = 1e-4f,
        WeightMatrix? matrix = null)
    {
        Tensor Upload(IBackend b, float[] data, int i) =>
            matrix is { } m && m.Index == i ? b.UploadMatrix(data, m.Rows, m.Cols, m.Format) : b.Upload(data);
        var refTensors = inputs.Select((a, i) => Upload(_reference, a, i)).ToArray();
        var testTensors = inputs.Select((a, i) => Upload(backend, a, i)).ToArray();
        try
        {
            op(_reference, refTensors);
            op(backend, testTensors);
            var expected = new float[inputs[checkIndex].Length];
            var actual = new float[inputs[checkIndex].Length];
            _reference.Download(refTensors[checkIndex], 0, expected);
            backend.Download(testTensors[checkIndex], 0, actual);
            AssertClose(expected, actual, tolerance);
        }
        finally
        {
            foreach (var t in testTensors) t.Dispose();
        }
    }

    /// <summary>MatMul with and without bias, for each (rows, inDim, outDim), with the weights stored in format.</summary>
    public void CompareMatMul(IBackend backend, IEnumerable<(int Rows, int InDim, int OutDim)> shapes, WeightFormat format = WeightFormat.F32,
        float tolerance = 1e-4f)
    {
        foreach (var (rows, inDim, outDim) in shapes)
        {
            var weights = new WeightMatrix(1, outDim, inDim, format);
            Compare(backend, [RandomArray(rows * inDim), RandomArray(outDim * inDim), RandomArray(outDim), new float[rows * outDim]],
                (be, t) => be.MatMul(t[0], rows, inDim, t[1], outDim, t[2], t[3]), 3, tolerance, weights);
            Compare(backend, [RandomArray(rows * inDim), RandomArray(outDim * inDim), new float[rows * outDim]],
                (be, t) => be.MatMul(t[0], rows, inDim, t[1], outDim, null, t[2]), 2, tolerance, weights);
        }
    }

    /// <summary>Attention over a cache of room for two positions more than used, for each case.</summary>
    public void CompareAttention(IBackend backend, IEnumerable<(int Rows, int Start, int Heads, int KvHeads, int HeadDim)> cases)
    {
        foreach (var (rows, start, heads, kvHeads, headDim) in cases)
        {
            int capacity = start + rows + 2;
            Compare(backend, [RandomArray(rows * heads * headDim), RandomArray(capacity * kvHeads * headDim), RandomArray(capacity * kvHeads * headDim), new float[rows * heads * headDim]],
                (be, t) => be.Attention(t[0], t[1], t[2], rows, start, heads, kvHeads, headDim, t[3]), 3);
        }
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1e-6f;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, scale),
                $"index {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance} x scale {scale})");
    }
}

/// <summary>Input `Index` of a comparison is a (Rows, Cols) weight matrix stored in Format.</summary>
internal readonly record struct WeightMatrix(int Index, int Rows, int Cols, WeightFormat Format);
