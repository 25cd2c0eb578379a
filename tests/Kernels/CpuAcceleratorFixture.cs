using DistillSpec.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// One ILGPU CPU-emulator context for every kernel test (compiling the kernels is the slow part),
/// with backends at two group sizes: 16 (4 x 4 matmul tiles) and 8 (2 x 2 tiles). Groups this
/// small keep the emulator's barriers cheap, and put head dimensions on both sides of the group
/// size so both layouts of the attention kernel run.
/// </summary>
public sealed class CpuAcceleratorFixture : IDisposable
{
    public CpuAcceleratorFixture()
    {
        Context = Context.Create(b => b.CPU(GpuBackends.CpuEmulator).EnableAlgorithms());
        Accelerator = Context.CreateCPUAccelerator(0);
        Wide = new IlgpuBackend(Accelerator, groupSize: 16);
        Narrow = new IlgpuBackend(Accelerator, groupSize: 8);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public IlgpuBackend Wide { get; }

    public IlgpuBackend Narrow { get; }

    public IlgpuBackend Get(string name) => name switch
    {
        "group-16" => Wide,
        "group-8" => Narrow,
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Backends => new() { "group-16", "group-8" };

    public void Dispose()
    {
        Wide.Dispose();
        Narrow.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}

// The emulator spawns a thread per lane; the collection also keeps kernel tests from running
// beside each other on a 2-core machine.
[CollectionDefinition(Name)]
public sealed class CpuAcceleratorCollection : ICollectionFixture<CpuAcceleratorFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
