using DistillSpec.Backends;
using DistillSpec.Kernels;
using DistillSpec.Tests.Backends;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// What only the ILGPU backend has: its kernels at a second group size (8: 2 x 2 matmul tiles, head
/// dimensions above the group), device argmax, growing buffers and host-side argument checks. Every
/// op at the registry's group size, in every weight format, is in BackendOpsTests.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class IlgpuBackendOpsTests(CpuAcceleratorFixture gpu)
{
    private readonly ReferenceComparison _check = new();

    public static TheoryData<string> Backends => CpuAcceleratorFixture.Backends;

    private float[] RandomArray(int n, float scale = 1f) => _check.RandomArray(n, scale);

    [Theory]
    [InlineData(WeightFormat.F32)]
    [InlineData(WeightFormat.BF16)]
    [InlineData(WeightFormat.Q8_0)]
    public void NarrowGroupsMatchReference(WeightFormat format)
    {
        var b = gpu.Narrow;
        (int, int, int)[] shapes = format == WeightFormat.Q8_0 ? [(1, 64, 5), (5, 32, 7)] : [(1, 8, 5), (5, 33, 17)];
        _check.CompareMatMul(b, shapes, format);
        if (format == WeightFormat.F32) _check.CompareAttention(b, [(3, 5, 4, 2, 8), (2, 20, 2, 1, 32)]);
    }

    [Fact]
    public void EmbedGrowsItsTokenBufferForLongInputs()
    {
        int[] tokens = Enumerable.Range(0, 150).Select(i => i % 8).ToArray();
        _check.Compare(gpu.Narrow, [RandomArray(8 * 3), new float[tokens.Length * 3]], (be, t) => be.Embed(t[0], tokens, 3, t[1]), 1, 0f);
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
        Assert.Contains("needs 6 values", Assert.Throws<ArgumentException>(() => b.UploadMatrix(new float[5], 2, 3, WeightFormat.BF16)).Message);
        Assert.Contains("multiple of 32", Assert.Throws<ArgumentException>(() => b.UploadMatrix(new float[40], 1, 40, WeightFormat.Q8_0)).Message);
        using var q8 = b.UploadMatrix(new float[64], 2, 32, WeightFormat.Q8_0);
        Assert.Contains("Q8_0 weight matrix", Assert.Throws<ArgumentException>(() => b.Download(q8, 0, new float[4])).Message);
    }
}
