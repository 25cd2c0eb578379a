using DistillSpec.Backends;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DistillSpec.Kernels;

/// <summary>
/// Registers the ILGPU devices with <see cref="BackendRegistry"/>: cuda and opencl (the first such
/// device; auto tries CUDA, then OpenCL) and ilgpu-cpu, ILGPU's CPU emulator (slow; for testing the
/// kernels without a GPU, never picked by auto).
/// </summary>
public static class GpuBackends
{
    /// <summary>
    /// The CPU emulator used for ilgpu-cpu and the kernel tests: 16 threads in warps of 4. Every
    /// lane is an OS thread and a group barrier costs about 30 us per lane on a busy 2-core
    /// machine, so small groups keep the emulated kernels fast enough to test.
    /// </summary>
    public static CPUDevice CpuEmulator { get; } = new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1);

    /// <summary>Registers cuda, opencl and ilgpu-cpu; calling it again changes nothing.</summary>
    public static void Register()
    {
        BackendRegistry.Register(new IlgpuProvider("cuda", AcceleratorType.Cuda, autoOrder: 0));
        BackendRegistry.Register(new IlgpuProvider("opencl", AcceleratorType.OpenCL, autoOrder: 1));
        BackendRegistry.Register(new IlgpuProvider("ilgpu-cpu", AcceleratorType.CPU, autoOrder: null));
    }

    /// <summary>Every device ILGPU can see here, one "Type: name" line each; the CPU emulator is always listed.</summary>
    public static IReadOnlyList<string> ListDevices()
    {
        using var context = CreateContext(type: null, profiling: false);
        return context.Devices.Select(d => $"{d.AcceleratorType}: {d.Name}").ToArray();
    }

    // null type: every kind of device.
    private static Context CreateContext(AcceleratorType? type, bool profiling) =>
        Context.Create(b =>
        {
            if (type is null or AcceleratorType.Cuda) b.Cuda();
            if (type is null or AcceleratorType.OpenCL) b.OpenCL();
            if (type is null or AcceleratorType.CPU) b.CPU(CpuEmulator);
            if (profiling) b.Profiling();
            b.EnableAlgorithms();
        });

    private sealed class IlgpuProvider(string name, AcceleratorType type, int? autoOrder) : IBackendProvider
    {
        public string Name => name;
        public int? AutoOrder => autoOrder;

        public IReadOnlyList<string> ListDevices() => GpuBackends.ListDevices();

        // null when ILGPU finds no device of the type; a device that is found but fails to open is an error.
        public OpenedBackend? TryOpen(BackendOptions options)
        {
            var context = CreateContext(type, options.Profiler is not null);
            var device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
            if (device is null)
            {
                context.Dispose();
                return null;
            }
            try
            {
                var accelerator = device.CreateAccelerator(context);
                var backend = new IlgpuBackend(accelerator, groupSize: null, options.Profiler, owned: new Owned(accelerator, context));
                return new OpenedBackend(backend, $"{type} device '{device.Name}' via ILGPU ({backend.Name}, groups of {backend.GroupSize})");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                context.Dispose();
                throw new DeviceUnavailableException($"the {type} device '{device.Name}' was found but could not be used: {e.Message}", e);
            }
        }
    }

    private sealed class Owned(Accelerator accelerator, Context context) : IDisposable
    {
        public void Dispose()
        {
            accelerator.Dispose();
            context.Dispose();
        }
    }
}
