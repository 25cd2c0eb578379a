using DistillSpec.Backends;
using DistillSpec.Kernels;
using DistillSpec.Tests.Backends;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// Every IlgpuBackend op against the scalar reference on the same random inputs, on ILGPU's CPU
/// emulator at two group sizes. Shapes are tiny (emulation is slow) but chosen to leave partial
/// tiles, partial groups and rows longer than a group. Tolerance as in BackendOpsTests: 1e-4 of
/// the output's scale.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class IlgpuBackendOpsTests(CpuAcceleratorFixture gpu)
{
    private readonly ReferenceComparison _check = new();

    public static TheoryData<string> Backends => CpuAcceleratorFixture.Backends;

    private float[] RandomArray(int n, float scale = 1f) => _check.RandomArray(n, scale);

    private void Compare(IBackend backend, float[][] inputs, Action<IBackend, Tensor[]> op, int checkIndex, float tolerance = 1e-4f) =>
        _check.Compare(backend, inputs, op, checkIndex, tolerance);

    [Theory, MemberData(nameof(Backends))]
    public void MatMulMatchesReference(string name)
    {
        var b = gpu.Get(name);
        // rows 1 takes the matrix-vector kernel; the others the tiled one with partial tiles.
        _check.CompareMatMul(b, [(1, 70, 13), (1, 8, 5), (5, 33, 17), (9, 20, 11)]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void NormsMatchReference(string name)
    {
        var b = gpu.Get(name);
        foreach (var (rows, dim) in new[] { (1, 100), (3, 7) })
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
        var b = gpu.Get(name);
        foreach (var (rows, heads, headDim, start, theta) in new[] { (1, 4, 16, 0, 10000f), (3, 2, 32, 37, 500000f), (2, 3, 8, 1000, 10000f) })
            Compare(b, [RandomArray(rows * heads * headDim)],
                (be, t) => be.Rope(t[0], rows, heads, headDim, start, theta), 0, 2e-4f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void AttentionMatchesReferenceWithGroupedHeads(string name)
    {
        var b = gpu.Get(name);
        // Several query rows with startPos > 0, GQA and MQA, and a context longer than one
        // key block of either group size (block = group size).
        _check.CompareAttention(b, [(1, 0, 2, 2, 8), (3, 5, 4, 2, 8), (2, 70, 2, 1, 32), (1, 20, 4, 4, 4)]);
    }

    [Theory, MemberData(nameof(Backends))]
    public void ElementwiseOpsMatchReference(string name)
    {
        var b = gpu.Get(name);
        foreach (int n in new[] { 1, 77 })
        {
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f), new float[n]], (be, t) => be.SwiGlu(t[0], t[1], n, t[2]), 2);
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f)], (be, t) => be.SwiGlu(t[0], t[1], n, t[1]), 1);
            Compare(b, [RandomArray(n, 4f), RandomArray(n, 4f)], (be, t) => be.SwiGlu(t[0], t[1], n, t[0]), 0);
            Compare(b, [RandomArray(n, 4f)], (be, t) => be.Gelu(t[0], n), 0);
            Compare(b, [RandomArray(n), RandomArray(n)], (be, t) => be.Add(t[0], t[1], n), 0);
        }
        Compare(b, [RandomArray(3 * 50, 8f)], (be, t) => be.Softmax(t[0], 3, 50), 0, 1e-5f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void DataMovementMatchesReference(string name)
    {
        var b = gpu.Get(name);
        int[] tokens = [3, 0, 7, 3];
        Compare(b, [RandomArray(8 * 5), new float[tokens.Length * 5]], (be, t) => be.Embed(t[0], tokens, 5, t[1]), 1, 0f);
        Compare(b, [RandomArray(3 * 5), RandomArray(10 * 5)], (be, t) => be.AddRows(t[0], t[1], 4, 3, 5), 0);
        Compare(b, [RandomArray(4 * 6), RandomArray(10 * 6)], (be, t) => be.CopyRows(t[0], 1, t[1], 5, 3, 6), 1, 0f);
        Compare(b, [RandomArray(4 * 6)], (be, t) => be.CopyRows(t[0], 3, t[0], 0, 1, 6), 0, 0f);
    }

    [Fact]
    public void EmbedGrowsItsTokenBufferForLongInputs()
    {
        var b = gpu.Narrow;
        int[] tokens = Enumerable.Range(0, 150).Select(i => i % 8).ToArray();
        Compare(b, [RandomArray(8 * 3), new float[tokens.Length * 3]], (be, t) => be.Embed(t[0], tokens, 3, t[1]), 1, 0f);
    }

    [Theory, MemberData(nameof(Backends))]
    public void ArgmaxFindsTheFirstLargestValue(string name)
    {
        var b = gpu.Get(name);
        var row = RandomArray(203);
        row[150] = 5f;
        row[77] = 5f;
        using var t = b.Upload([.. RandomArray(10), .. row]);
        Assert.Equal(77, b.Argmax(t, 10, row.Length));
        Assert.Equal(0, b.Argmax(t, 10 + 77, 1));
        using var negative = b.Upload([float.NegativeInfinity, -3f, float.NegativeInfinity]);
        Assert.Equal(1, b.Argmax(negative, 0, 3));
    }

    [Fact]
    public void OverlappingCopyWithinOneTensorIsRejected()
    {
        using var t = gpu.Wide.Allocate(4 * 6);
        Assert.Throws<ArgumentException>(() => gpu.Wide.CopyRows(t, 0, t, 1, 2, 6));
    }

    [Fact]
    public void BadArgumentsAreRejectedOnTheHost()
    {
        var b = gpu.Wide;
        using var cpu = new ScalarBackend().Allocate(4);
        using var y = b.Allocate(4);
        Assert.Throws<ArgumentException>(() => b.Add(y, cpu, 4));
        using var table = b.Allocate(3 * 2);
        using var output = b.Allocate(2 * 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Embed(table, [1, 3], 2, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Argmax(y, 0, 0));
    }
}
