using DistillSpec.Backends;
using DistillSpec.Profiling;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DistillSpec.Kernels;

/// <summary>What a device name resolved to, in words for the user.</summary>
public sealed record DeviceSelection(IBackend Backend, string Description);

/// <summary>A requested device that is not there or cannot be opened.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null)
    : InvalidOperationException(message, inner);

/// <summary>
/// Maps --device (auto | cuda | opencl | cpu | ilgpu-cpu) to a backend: cpu is the engine's
/// SimdBackend; cuda and opencl the first such ILGPU device; ilgpu-cpu ILGPU's CPU emulator
/// (slow; for testing the kernels without a GPU); auto prefers CUDA, then OpenCL, then cpu.
/// </summary>
public static class DeviceSelector
{
    public static IReadOnlyList<string> Names { get; } = ["auto", "cuda", "opencl", "cpu", "ilgpu-cpu"];

    /// <summary>
    /// The CPU emulator used for ilgpu-cpu and the kernel tests: 16 threads in warps of 4. Every
    /// lane is an OS thread and a group barrier costs about 30 us per lane on a busy 2-core
    /// machine, so small groups keep the emulated kernels fast enough to test.
    /// </summary>
    public static CPUDevice CpuEmulator { get; } = new(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1);

    public static IBackend Create(string device, int threads) => Select(device, threads).Backend;

    /// <param name="threads">Worker threads of the cpu backend; 0 for one per core.</param>
    /// <param name="profiler">Passed to an ILGPU backend, which then times every launch.</param>
    public static DeviceSelection Select(string device, int threads, KernelProfiler? profiler = null)
    {
        switch (device.Trim().ToLowerInvariant())
        {
            case "cpu":
                return Cpu(threads, "cpu");
            case "cuda":
                return Ilgpu(AcceleratorType.Cuda, profiler) ?? throw NotFound("CUDA");
            case "opencl":
                return Ilgpu(AcceleratorType.OpenCL, profiler) ?? throw NotFound("OpenCL");
            case "ilgpu-cpu":
                return Ilgpu(AcceleratorType.CPU, profiler)!;
            case "auto":
                return Auto(threads, profiler);
            default:
                throw new ArgumentException($"unknown device '{device}'; expected one of {string.Join(", ", Names)}", nameof(device));
        }
    }

    /// <summary>Every device ILGPU can see here, one "Type: name" line each; the CPU emulator is always listed.</summary>
    public static IReadOnlyList<string> ListDevices()
    {
        using var context = CreateContext(AcceleratorType.Cuda, profiling: false, everything: true);
        return context.Devices.Select(d => $"{d.AcceleratorType}: {d.Name}").ToArray();
    }

    // A GPU that is present but fails to open is skipped, and the description says why.
    private static DeviceSelection Auto(int threads, KernelProfiler? profiler)
    {
        var skipped = new List<string>();
        foreach (var type in new[] { AcceleratorType.Cuda, AcceleratorType.OpenCL })
        {
            try
            {
                if (Ilgpu(type, profiler) is { } gpu) return gpu with { Description = "auto: " + gpu.Description };
            }
            catch (DeviceUnavailableException e)
            {
                skipped.Add(e.Message);
            }
        }
        string why = skipped.Count == 0 ? "no CUDA or OpenCL device" : string.Join("; ", skipped);
        return Cpu(threads, $"auto: {why}, so cpu");
    }

    private static DeviceSelection Cpu(int threads, string reason)
    {
        var simd = new SimdBackend(threads);
        return new DeviceSelection(simd, $"{reason}: {simd.Name}");
    }

    // null when ILGPU finds no device of the type; a device that is found but fails to open is an error.
    private static DeviceSelection? Ilgpu(AcceleratorType type, KernelProfiler? profiler)
    {
        var context = CreateContext(type, profiler is not null, everything: false);
        var device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
        if (device is null)
        {
            context.Dispose();
            return null;
        }
        try
        {
            var accelerator = device.CreateAccelerator(context);
            var backend = new IlgpuBackend(accelerator, groupSize: null, profiler, owned: new Owned(accelerator, context));
            return new DeviceSelection(backend, $"{type} device '{device.Name}' via ILGPU ({backend.Name}, groups of {backend.GroupSize})");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context.Dispose();
            throw new DeviceUnavailableException($"the {type} device '{device.Name}' was found but could not be used: {e.Message}", e);
        }
    }

    private static Context CreateContext(AcceleratorType type, bool profiling, bool everything) =>
        Context.Create(b =>
        {
            if (everything || type == AcceleratorType.Cuda) b.Cuda();
            if (everything || type == AcceleratorType.OpenCL) b.OpenCL();
            if (everything || type == AcceleratorType.CPU) b.CPU(CpuEmulator);
            if (profiling) b.Profiling();
            b.EnableAlgorithms();
        });

    private static DeviceUnavailableException NotFound(string kind) =>
        new($"no {kind} device found; ILGPU sees: {string.Join("; ", ListDevices())}. Use --device auto or cpu.");

    private sealed class Owned(Accelerator accelerator, Context context) : IDisposable
    {
        public void Dispose()
        {
            accelerator.Dispose();
            context.Dispose();
        }
    }
}
