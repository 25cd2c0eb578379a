using DistillSpec.Backends;
using DistillSpec.Kernels;

namespace DistillSpec.Tests.Kernels;

public class DeviceSelectorTests
{
    private static bool Has(string type) => DeviceSelector.ListDevices().Any(d => d.StartsWith(type + ":", StringComparison.Ordinal));

    [Fact]
    public void CpuIsTheSimdBackend()
    {
        var selection = DeviceSelector.Select("cpu", threads: 2);
        using var backend = selection.Backend;
        Assert.IsType<SimdBackend>(backend);
        Assert.Contains("cpu-simd (2 threads)", selection.Description);
    }

    [Fact]
    public void AutoFallsBackToCpuWithoutAGpu()
    {
        var selection = DeviceSelector.Select("auto", threads: 1);
        using var backend = selection.Backend;
        Assert.StartsWith("auto", selection.Description);
        if (!Has("Cuda") && !Has("OpenCL"))
        {
            Assert.IsType<SimdBackend>(backend);
            Assert.Contains("no CUDA or OpenCL device", selection.Description);
        }
        else Assert.IsType<IlgpuBackend>(backend);
    }

    [Theory]
    [InlineData("cuda", "Cuda", "CUDA")]
    [InlineData("opencl", "OpenCL", "OpenCL")]
    public void AMissingGpuIsAClearErrorListingTheDevicesFound(string device, string type, string word)
    {
        if (Has(type)) return;
        var error = Assert.Throws<DeviceUnavailableException>(() => DeviceSelector.Create(device, 1));
        Assert.Contains($"no {word} device found", error.Message);
        Assert.Contains("CPU:", error.Message);
        Assert.IsAssignableFrom<InvalidOperationException>(error);
    }

    [Fact]
    public void UnknownNamesListTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceSelector.Create("tpu", 1));
        Assert.Contains("auto, cuda, opencl, cpu, ilgpu-cpu", error.Message);
    }

    [Fact]
    public void IlgpuCpuIsTheIlgpuBackendOnTheEmulator()
    {
        var selection = DeviceSelector.Select(" ILGPU-CPU ", threads: 1);
        using var backend = Assert.IsType<IlgpuBackend>(selection.Backend);
        Assert.StartsWith("ilgpu-cpu", backend.Name);
        using var x = backend.Upload([1f, 2f, 3f]);
        backend.Add(x, x, 3);
        var result = new float[3];
        backend.Download(x, 0, result);
        Assert.Equal([2f, 4f, 6f], result);
    }
}
