using System.Diagnostics;
using System.Text.Json;

namespace DistillSpec.Kernels.Profiling;

/// <summary>
/// Per-kernel call counts and times, plus one event per launch for a Chrome trace
/// (chrome://tracing, Perfetto). Backend-neutral: a GPU backend synchronises and records each
/// launch; a CPU backend can wrap an op in <see cref="Measure"/>. Times are on this profiler's
/// clock, which starts when it is created.
/// </summary>
public sealed class KernelProfiler
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<KernelEvent> _events = [];
    private readonly Dictionary<string, (int Calls, TimeSpan Total)> _totals = [];
    private readonly Lock _lock = new();

    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<KernelEvent> Events
    {
        get { lock (_lock) return _events.ToArray(); }
    }

    public void Record(string name, TimeSpan start, TimeSpan duration, int thread = 0)
    {
        lock (_lock)
        {
            _events.Add(new KernelEvent(name, start, duration, thread));
            var (calls, total) = _totals.GetValueOrDefault(name);
            _totals[name] = (calls + 1, total + duration);
        }
    }

    /// <summary>Times the code up to Dispose on the host clock: <c>using (profiler.Measure("MatMul")) { ... }</c>.</summary>
    public Scope Measure(string name, int thread = 0) => new(this, name, thread, Now);

    /// <summary>Totals per kernel, largest total first.</summary>
    public IReadOnlyList<KernelStats> Summary()
    {
        lock (_lock)
            return _totals.Select(kv => new KernelStats(kv.Key, kv.Value.Calls, kv.Value.Total))
                .OrderByDescending(s => s.Total).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray();
    }

    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
            _totals.Clear();
        }
    }

    public void WriteTable(TextWriter writer)
    {
        var stats = Summary();
        double all = stats.Sum(s => s.Total.TotalMilliseconds);
        int width = Math.Max(6, stats.Select(s => s.Name.Length).DefaultIfEmpty(0).Max());
        writer.WriteLine($"{"kernel".PadRight(width)}  {"calls",8}  {"total ms",10}  {"mean us",10}  {"share",6}");
        foreach (var s in stats)
            writer.WriteLine($"{s.Name.PadRight(width)}  {s.Calls,8}  {s.Total.TotalMilliseconds,10:F3}  {s.MeanMicroseconds,10:F1}  {(all > 0 ? s.Total.TotalMilliseconds / all : 0),6:P1}");
        writer.WriteLine($"{"total".PadRight(width)}  {stats.Sum(s => s.Calls),8}  {all,10:F3}");
    }

    /// <summary>Chrome trace JSON (object format): one complete ("X") event per launch, times in microseconds.</summary>
    public void WriteChromeTrace(Stream stream, int processId = 1)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ms");
        json.WriteStartArray("traceEvents");
        foreach (var e in Events)
        {
            json.WriteStartObject();
            json.WriteString("name", e.Name);
            json.WriteString("ph", "X");
            json.WriteNumber("ts", Math.Round(e.Start.TotalMicroseconds, 3));
            json.WriteNumber("dur", Math.Round(e.Duration.TotalMicroseconds, 3));
            json.WriteNumber("pid", processId);
            json.WriteNumber("tid", e.Thread);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public readonly struct Scope(KernelProfiler profiler, string name, int thread, TimeSpan start) : IDisposable
    {
        public void Dispose() => profiler.Record(name, start, profiler.Now - start, thread);
    }
}

public readonly record struct KernelEvent(string Name, TimeSpan Start, TimeSpan Duration, int Thread);

public readonly record struct KernelStats(string Name, int Calls, TimeSpan Total)
{
    public double MeanMicroseconds => Calls == 0 ? 0 : Total.TotalMicroseconds / Calls;
}
