using DistillSpec.Kernels;
using Xunit.Abstractions;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// Every kernel compiled to PTX for sm_80 and sm_90 with ILGPU's PTX backend and no driver; where
/// ptxas is installed (tools/gpu/install-ptxas.sh), assembled for the real architecture too.
/// </summary>
public class OfflinePtxTests(ITestOutputHelper output)
{
    [Fact]
    public void TheCatalogHoldsEveryKernelInEveryWeightFormat()
    {
        var names = KernelCatalog.All.Select(k => k.Name).ToHashSet();
        foreach (string name in new[]
        {
            "MatMulKernels.MatVec<F32Weights>", "MatMulKernels.MatVec<Bf16Weights>", "MatMulKernels.MatVec<Q8Weights>",
            "MatMulKernels.Tiled<Q8Weights>", "ElementwiseKernels.Embed<Bf16Weights>", "ElementwiseKernels.Rope",
            "NormKernels.RmsNorm", "AttentionKernel.Attend", "ArgmaxKernel.Argmax", "FusedVerifyKernel.Verify",
        })
            Assert.Contains(name, names);
        Assert.True(KernelCatalog.All.Single(k => k.Name == "ElementwiseKernels.SwiGlu").ImplicitlyGrouped);
        Assert.False(KernelCatalog.All.Single(k => k.Name == "FusedVerifyKernel.Verify").ImplicitlyGrouped);
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(9, 0)]
    public void EveryKernelCompilesToPtx(int major, int minor)
    {
        var architecture = OfflinePtx.Architectures.Single(a => a.Major == major && a.Minor == minor);
        var kernels = OfflinePtx.Compile(architecture);
        Assert.Equal(KernelCatalog.All.Count, kernels.Count);
        foreach (var kernel in kernels)
        {
            // ILGPU targets the lowest architecture with the features the kernels use (sm_80 for both);
            // the driver, or ptxas below, then compiles it for the device's own.
            Assert.Equal($"sm_{major}{minor}", kernel.Architecture);
            Assert.Contains(".target sm_80", kernel.Assembly);
            Assert.Contains(".version 7.8", kernel.Assembly);
            Assert.Contains(".entry ", kernel.Assembly);
        }
        // Weight formats reach the device code: BF16 loads 16 bits and shifts them into place, Q8_0 sign-extends bytes.
        var bf16 = kernels.Single(k => k.Name == "MatMulKernels.MatVec<Bf16Weights>").Assembly;
        Assert.Contains("ld.b16", bf16);
        Assert.Contains("shl.b32", bf16);
        Assert.Contains("cvt.s32.s8", kernels.Single(k => k.Name == "MatMulKernels.MatVec<Q8Weights>").Assembly);

        string? ptxas = PtxAssembler.Find();
        if (ptxas is null)
        {
            output.WriteLine("ptxas not found (set DSPEC_PTXAS, put it on PATH, or run tools/gpu/install-ptxas.sh): PTX generated but not assembled");
            return;
        }
        output.WriteLine($"assembling with {ptxas} ({PtxAssembler.Version(ptxas)})");
        foreach (var kernel in kernels)
        {
            var stats = PtxAssembler.Assemble(ptxas, kernel);
            Assert.InRange(stats.Registers, 1, 255);
            output.WriteLine($"{stats.Kernel}: {stats.Registers} registers, {stats.SpillStoreBytes} B spill stores, {stats.SpillLoadBytes} B spill loads");
        }
    }

    [Fact]
    public void PtxasOutputIsParsed()
    {
        const string text = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'Verify' for 'sm_90'
            ptxas info    : Function properties for Verify
                16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 40 registers, 1024 bytes smem, 400 bytes cmem[0]
            """;
        var stats = PtxAssembler.Parse(new PtxKernel("Verify", "sm_90", ""), text);
        Assert.Equal(new PtxasStats("Verify", "sm_90", 40, 8, 12, 16, 1024), stats);
        Assert.Throws<InvalidOperationException>(() => PtxAssembler.Parse(new PtxKernel("Verify", "sm_90", ""), "garbage"));
    }
}
