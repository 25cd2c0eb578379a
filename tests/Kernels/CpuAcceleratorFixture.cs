using DistillSpec.Kernels;
using DistillSpec.Tests.Backends;
using ILGPU.Runtime;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// One ILGPU CPU-emulator accelerator for every kernel test (compiling the kernels is the slow
/// part), with backends at two group sizes: 16 (4 x 4 matmul tiles), the registry's ilgpu-cpu
/// backend that the cross-backend suite also runs, and 8 (2 x 2 tiles) on the same accelerator.
/// Groups this small keep the emulator's barriers cheap, and put head dimensions on both sides of
/// the group size so both layouts of the attention kernel run.
/// </summary>
public sealed class CpuAcceleratorFixture : IDisposable
{
    public CpuAcceleratorFixture()
    {
        Wide = (IlgpuBackend)RegisteredBackends.Get("ilgpu-cpu");
        Accelerator = Wide.Accelerator;
        Narrow = new IlgpuBackend(Accelerator, groupSize: 8);
    }

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

    // Wide, owned by the registry's backend list, goes with the other registered backends.
    public void Dispose()
    {
        Narrow.Dispose();
        RegisteredBackends.DisposeAll();
    }
}

// The emulator spawns a thread per lane; the collection also keeps kernel tests from running
// beside each other on a 2-core machine.
[CollectionDefinition(Name)]
public sealed class CpuAcceleratorCollection : ICollectionFixture<CpuAcceleratorFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
