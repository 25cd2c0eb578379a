using DistillSpec.Kernels;
using DistillSpec.Profiling;
using ILGPU;
using ILGPU.Runtime.CPU;

namespace DistillSpec.Tests.Kernels;

public class IlgpuBackendProfilingTests
{
    // Both timing paths: host stopwatch, and device profiling markers in a profiling context.
    [Theory, InlineData(false), InlineData(true)]
    public void IlgpuBackendRecordsEachLaunch(bool deviceMarkers)
    {
        using var context = Context.Create(b =>
        {
            b.CPU(GpuBackends.CpuEmulator).EnableAlgorithms();
            if (deviceMarkers) b.Profiling();
        });
        using var accelerator = context.CreateCPUAccelerator(0);
        var profiler = new KernelProfiler();
        using var backend = new IlgpuBackend(accelerator, groupSize: 16, profiler) { TraceThread = KernelProfiler.DraftThread };
        using var x = backend.Upload([1f, 2f, 3f, 4f]);
        using var w = backend.Upload([1f, 1f, 1f, 1f]);
        backend.Add(x, x, 4);
        backend.Add(x, x, 4);
        backend.RmsNorm(x, w, 1, 4, 1e-5f, x);

        var summary = profiler.Summary().ToDictionary(s => s.Name);
        Assert.Equal(2, summary["Add"].Calls);
        Assert.Equal(1, summary["RmsNorm"].Calls);
        Assert.All(profiler.Events, e => Assert.True(e.Duration >= TimeSpan.Zero, e.ToString()));
        Assert.All(profiler.Events, e => Assert.Equal(KernelProfiler.DraftThread, e.Thread));
    }
}
