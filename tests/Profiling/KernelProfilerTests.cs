using System.Text.Json;
using DistillSpec.Profiling;

namespace DistillSpec.Tests.Profiling;

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

    [Fact]
    public void PhasesAreKeptApartFromKernelsAndShareIsOfTheGivenTime()
    {
        var profiler = new KernelProfiler();
        using (KernelProfiler.Phase(null, "draft")) { }  // no profiler: nothing to record, nothing thrown
        using (KernelProfiler.Phase(profiler, "verify"))
            profiler.Record("MatVec", profiler.Now, TimeSpan.FromMilliseconds(1));
        profiler.NameThread(KernelProfiler.PhaseThread, "phases");

        Assert.Equal(["MatVec"], profiler.Summary().Select(s => s.Name));
        Assert.Equal(["verify"], profiler.Summary(KernelProfiler.PhaseCategory).Select(s => s.Name));
        var table = new StringWriter();
        profiler.WriteTable(table, shareOf: TimeSpan.FromMilliseconds(4));
        Assert.Contains("25.0", table.ToString().Split('\n')[1]);

        using var json = new MemoryStream();
        profiler.WriteChromeTrace(json);
        var events = JsonDocument.Parse(json.ToArray()).RootElement.GetProperty("traceEvents").EnumerateArray().ToArray();
        Assert.Equal("M", events[0].GetProperty("ph").GetString());
        Assert.Equal("phases", events[0].GetProperty("args").GetProperty("name").GetString());
        var phase = events.Single(e => e.GetProperty("name").GetString() == "verify");
        Assert.Equal(KernelProfiler.PhaseCategory, phase.GetProperty("cat").GetString());
        Assert.Equal(KernelProfiler.PhaseThread, phase.GetProperty("tid").GetInt32());
    }
}
