using System.Text.Json;
using DistillSpec.Kernels;
using DistillSpec.Kernels.Profiling;
using ILGPU;
using ILGPU.Runtime.CPU;

namespace DistillSpec.Tests.Kernels.Profiling;

public class KernelProfilerTests
{
    [Fact]
    public void SummaryTableAndTraceAgreeWithTheRecordedLaunches()
    {
        var profiler = new KernelProfiler();
        profiler.Record("MatVec", TimeSpan.FromMicroseconds(10), TimeSpan.FromMicroseconds(30));
        profiler.Record("RmsNorm", TimeSpan.FromMicroseconds(40), TimeSpan.FromMicroseconds(10));
        profiler.Record("MatVec", TimeSpan.FromMicroseconds(50), TimeSpan.FromMicroseconds(50));

        var summary = profiler.Summary();
        Assert.Equal(["MatVec", "RmsNorm"], summary.Select(s => s.Name));
        Assert.Equal(2, summary[0].Calls);
        Assert.Equal(40, summary[0].MeanMicroseconds, 6);

        var table = new StringWriter();
        profiler.WriteTable(table);
        var lines = table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("mean us", lines[0]);
        Assert.Contains("MatVec", lines[1]);
        Assert.Contains("0.080", lines[1]);
        Assert.Contains("88.9", lines[1]);

        using var json = new MemoryStream();
        profiler.WriteChromeTrace(json);
        using var trace = JsonDocument.Parse(json.ToArray());
        var events = trace.RootElement.GetProperty("traceEvents").EnumerateArray().ToArray();
        Assert.Equal(3, events.Length);
        Assert.Equal("X", events[2].GetProperty("ph").GetString());
        Assert.Equal("MatVec", events[2].GetProperty("name").GetString());
        Assert.Equal(50, events[2].GetProperty("ts").GetDouble());
        Assert.Equal(50, events[2].GetProperty("dur").GetDouble());
        Assert.True(events[2].TryGetProperty("pid", out _) && events[2].TryGetProperty("tid", out _));
    }

    [Fact]
    public void MeasureTimesAHostScope()
    {
        var profiler = new KernelProfiler();
        using (profiler.Measure("Sleep", thread: 3)) Thread.Sleep(5);
        var e = Assert.Single(profiler.Events);
        Assert.Equal(3, e.Thread);
        Assert.True(e.Duration >= TimeSpan.FromMilliseconds(4), e.Duration.ToString());
        profiler.Clear();
        Assert.Empty(profiler.Summary());
    }

    // Both timing paths: host stopwatch, and device profiling markers in a profiling context.
    [Theory, InlineData(false), InlineData(true)]
    public void IlgpuBackendRecordsEachLaunch(bool deviceMarkers)
    {
        using var context = Context.Create(b =>
        {
            b.CPU(DeviceSelector.CpuEmulator).EnableAlgorithms();
            if (deviceMarkers) b.Profiling();
        });
        using var accelerator = context.CreateCPUAccelerator(0);
        var profiler = new KernelProfiler();
        using var backend = new IlgpuBackend(accelerator, groupSize: 16, profiler);
        using var x = backend.Upload([1f, 2f, 3f, 4f]);
        using var w = backend.Upload([1f, 1f, 1f, 1f]);
        backend.Add(x, x, 4);
        backend.Add(x, x, 4);
        backend.RmsNorm(x, w, 1, 4, 1e-5f, x);

        var summary = profiler.Summary().ToDictionary(s => s.Name);
        Assert.Equal(2, summary["Add"].Calls);
        Assert.Equal(1, summary["RmsNorm"].Calls);
        Assert.All(profiler.Events, e => Assert.True(e.Duration >= TimeSpan.Zero, e.ToString()));
    }
}
