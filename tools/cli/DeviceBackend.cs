using DistillSpec.Backends;
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
        var opened = BackendRegistry.Open(device, new BackendOptions(threads, profiler));
        Console.Error.WriteLine($"{role} device: {opened.Description}");
        if (profiler is null) return opened.Backend;
        profiler.NameThread(traceThread, $"{role} ops: {opened.Backend.Name}");
        return opened.Backend.Profiled(profiler, traceThread);
    }
}
