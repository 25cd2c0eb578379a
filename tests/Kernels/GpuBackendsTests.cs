using DistillSpec.Backends;
using DistillSpec.Kernels;

namespace DistillSpec.Tests.Kernels;

[Collection(nameof(BackendRegistry))]
public class GpuBackendsTests
{
    public GpuBackendsTests() => GpuBackends.Register();

    private static bool Has(string type) => GpuBackends.ListDevices().Any(d => d.StartsWith(type + ":", StringComparison.Ordinal));

    [Fact]
    public void RegisteringAddsTheIlgpuDevicesOnce()
    {
        GpuBackends.Register();
        var names = BackendRegistry.Names;
        foreach (var name in new[] { "auto", "cpu", "cuda", "opencl", "ilgpu-cpu" }) Assert.Single(names, name);
    }

    [Fact]
    public void AutoFallsBackToCpuWithoutAGpu()
    {
        var opened = BackendRegistry.Open("auto", new BackendOptions(Threads: 1));
        using var backend = opened.Backend;
        Assert.StartsWith("auto", opened.Description);
        if (!Has("Cuda") && !Has("OpenCL"))
        {
            Assert.IsType<SimdBackend>(backend);
            Assert.Contains("no cuda or opencl device", opened.Description);
        }
        else Assert.Equal(BackendKind.Device, backend.Kind);
    }

    [Theory]
    [InlineData("cuda", "Cuda")]
    [InlineData("opencl", "OpenCL")]
    public void AMissingGpuIsAClearErrorListingTheDevicesFound(string device, string type)
    {
        if (Has(type)) return;
        var error = Assert.Throws<DeviceUnavailableException>(() => BackendRegistry.Open(device));
        Assert.Contains($"no {device} device found", error.Message);
        Assert.Contains("CPU:", error.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(error);
    }

    [Fact]
    public void IlgpuCpuIsTheIlgpuBackendOnTheEmulator()
    {
        var opened = BackendRegistry.Open(" ILGPU-CPU ", new BackendOptions(Threads: 1));
        using var backend = Assert.IsType<IlgpuBackend>(opened.Backend);
        Assert.Equal(BackendKind.Device, backend.Kind);
        Assert.StartsWith("ilgpu-cpu", backend.Name);
        using var x = backend.Upload([1f, 2f, 3f]);
        backend.Add(x, x, 3);
        var result = new float[3];
        backend.Download(x, 0, result);
        Assert.Equal([2f, 4f, 6f], result);
    }
}
