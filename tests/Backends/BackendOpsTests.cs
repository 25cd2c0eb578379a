using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Every operation on every backend against the scalar reference on the same random inputs
/// (the llama.cpp test-backend-ops idea). Tolerance: 1e-4 relative to the output's scale,
/// from f32 accumulation order differences.
/// </summary>
public class BackendOpsTests
{
    public static TheoryData<string> Backends => new() { "simd-1", "simd-2", "simd-3" };

    internal static IBackend Create(string name) => name switch
    {
        "simd-1" => new SimdBackend(1),
        "simd-2" => new SimdBackend(2),
        "simd-3" => new SimdBackend(3),
        _ => throw new ArgumentException(name),
    };

    private readonly ReferenceComparison _check = new();

    private float[] RandomArray(int n, float scale = 1f) => _check.RandomArray(n, scale);

    private void Compare(IBackend backend, float[][] inputs, Action<IBackend, Tensor[]> op, int checkIndex, float tolerance = 1e-4f) =>
        _check.Compare(backend, inputs, op, checkIndex, tolerance);

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance) =>
        ReferenceComparison.AssertClose(expected, actual, tolerance);

    [Theory, MemberData(nameof(Backends))]
    public void MatMulMatchesReference(string name)
    {
        using var b = Create(name);
        _check.CompareMatMul(b, [(1, 64, 96), (1, 33, 21), (2, 40, 36), (3, 24, 50), (5, 33, 17), (6, 16, 20), (7, 64, 29), (9, 128, 300), (70, 48, 40)]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void NormsMatchReference(string name)
    {
        using var b = Create(name);
        foreach (var (rows, dim) in new[] { (1, 64), (7, 50), (40, 96) })
        {
            Compare(b, [RandomArray(rows * dim, 3f), RandomArray(dim), new float[rows * dim]],
                (be, t) => be.RmsNorm(t[0], t[1], rows, dim, 1e-5f, t[2]), 2);
            Compare(b, [RandomArray(rows * dim, 3f), RandomArray(dim), RandomArray(dim), new float[rows * dim]],
                (be, t) => be.LayerNorm(t[0], t[1], t[2], rows, dim, 1e-5f, t[3]), 3);
        }
    }

    [Theory, MemberData(nameof(Backends))]
    public void RopeMatchesReference(string name)
    {
        using var b = Create(name);
        foreach (var (rows, heads, headDim, start, theta) in new[] { (1, 4, 16, 0, 10000f), (6, 2, 32, 37, 500000f), (3, 3, 8, 1000, 10000f) })
            Compare(b, [RandomArray(rows * heads * headDim)],
                (be, t) => be.Rope(t[0], rows, heads, headDim, start, theta), 0, 2e-4f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void AttentionMatchesReferenceWithGroupedHeads(string name)
    {
        using var b = Create(name);
        _check.CompareAttention(b, [(1, 0, 4, 4, 16), (1, 9, 4, 2, 16), (5, 3, 6, 2, 8), (4, 0, 4, 1, 32), (2, 41, 2, 1, 64), (3, 10, 2, 2, 80), (2, 6, 3, 1, 12)]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void ElementwiseOpsMatchReference(string name)
    {
        using var b = Create(name);
        foreach (int n in new[] { 1, 17, 1000, 2049 })
        {
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f), new float[n]], (be, t) => be.SwiGlu(t[0], t[1], n, t[2]), 2);
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f)], (be, t) => be.SwiGlu(t[0], t[1], n, t[1]), 1);
            Compare(b, [RandomArray(n, 4f)], (be, t) => be.Gelu(t[0], n), 0);
            Compare(b, [RandomArray(n), RandomArray(n)], (be, t) => be.Add(t[0], t[1], n), 0);
        }
        Compare(b, [RandomArray(3 * 50, 8f)], (be, t) => be.Softmax(t[0], 3, 50), 0, 1e-5f);
        Compare(b, [RandomArray(2 * 50, 300f)], (be, t) => be.Softmax(t[0], 2, 50), 0, 1e-5f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void DataMovementMatchesReference(string name)
    {
        using var b = Create(name);
        int[] tokens = [3, 0, 7, 3];
        Compare(b, [RandomArray(8 * 5), new float[tokens.Length * 5]], (be, t) => be.Embed(t[0], tokens, 5, t[1]), 1, 0f);
        Compare(b, [RandomArray(3 * 5), RandomArray(10 * 5)], (be, t) => be.AddRows(t[0], t[1], 4, 3, 5), 0);
        Compare(b, [RandomArray(4 * 6), RandomArray(10 * 6)], (be, t) => be.CopyRows(t[0], 1, t[1], 5, 3, 6), 1, 0f);
    }

    [Fact]
    public void ReferenceMatchesHandComputedValues()
    {
        var reference = new ScalarBackend();
        // y = x W^T + b with x = [1, 2], W = [[1, 0], [1, 1], [0, -1]], b = [0, 1, 2]
        var y = reference.Allocate(3);
        reference.MatMul(reference.Upload([1f, 2f]), 1, 2, reference.Upload([1f, 0f, 1f, 1f, 0f, -1f]), 3, reference.Upload([0f, 1f, 2f]), y);
        Assert.Equal([1f, 4f, 0f], ((CpuTensor)y).Data);

        // RoPE at position 1, headDim 2, theta irrelevant for i = 0: rotation by 1 radian.
        var x = reference.Upload([1f, 0f]);
        reference.Rope(x, 1, 1, 2, 1, 10000f);
        Assert.Equal(MathF.Cos(1f), ((CpuTensor)x).Data[0], 5);
        Assert.Equal(MathF.Sin(1f), ((CpuTensor)x).Data[1], 5);

        // RMSNorm of [3, 4] with unit gain: rms = sqrt(12.5).
        var n = reference.Allocate(2);
        reference.RmsNorm(reference.Upload([3f, 4f]), reference.Upload([1f, 1f]), 1, 2, 0f, n);
        Assert.Equal(3 / MathF.Sqrt(12.5f), ((CpuTensor)n).Data[0], 5);

        // GELU(1) with the tanh approximation.
        var g = reference.Upload([1f]);
        reference.Gelu(g, 1);
        Assert.Equal(0.841192f, ((CpuTensor)g).Data[0], 5);
    }
}
