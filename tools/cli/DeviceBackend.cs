using DistillSpec.Backends;
using DistillSpec.Kernels;
using DistillSpec.Profiling;

namespace DistillSpec.Cli;

/// <summary>Opens a --device for a model, says what it resolved to, and hooks it to the profiler.</summary>
internal static class DeviceBackend
{
    /// <param name="role">"target", "draft" or "model": how the line on stderr and the trace row name it.</param>
    /// <param name="traceThread">KernelProfiler.TargetThread or DraftThread: the trace row of this backend's ops.</param>
    public static IBackend Open(string device, int threads, KernelProfiler? profiler, string role, int traceThread)
    {
        // A device that is missing or fails to open is a DeviceUnavailableException, an
        // InvalidOperationException, which CliErrors.Guard turns into one line.
        var selection = DeviceSelector.Select(device, threads, profiler);
        Console.Error.WriteLine($"{role} device: {selection.Description}");
        var backend = selection.Backend;
        profiler?.NameThread(traceThread, $"{role} ops: {backend.Name}");
        if (backend is IlgpuBackend gpu) gpu.TraceThread = traceThread;
        else if (profiler is not null) backend = new ProfiledBackend(backend, profiler, traceThread);
        return backend;
    }

    /// <summary>The backend's own kind, under a ProfiledBackend.</summary>
    public static IBackend Unwrapped(IBackend backend) => backend is ProfiledBackend p ? p.Inner : backend;
}
