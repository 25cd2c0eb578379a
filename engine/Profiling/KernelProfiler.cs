using System.Diagnostics;
using System.Text.Json;

namespace DistillSpec.Profiling;

/// <summary>
/// Per-kernel call counts and times, plus one event per launch for a Chrome trace
/// (chrome://tracing, Perfetto). Backend-neutral: a GPU backend synchronises and records each
/// launch; ProfiledBackend times a CPU backend's ops; decoders record their phases (draft,
/// verify, sample) under <see cref="PhaseCategory"/>, so the kernel table never counts a kernel
/// and the phase holding it twice. Times are on this profiler's clock, which starts when it is
/// created. Thread-safe.
/// </summary>
public sealed class KernelProfiler
{
    public const string KernelCategory = "kernel";
    public const string PhaseCategory = "phase";

    /// <summary>Trace rows ("threads" to the viewer): phases, then the target's and the draft's ops.</summary>
    public const int PhaseThread = 0, TargetThread = 1, DraftThread = 2;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<KernelEvent> _events = [];
    private readonly Dictionary<(string Category, string Name), (int Calls, TimeSpan Total)> _totals = [];
    private readonly SortedDictionary<int, string> _threadNames = [];
    private readonly Lock _lock = new();

    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<KernelEvent> Events
    {
        get { lock (_lock) return _events.ToArray(); }
    }

    public void Record(string name, TimeSpan start, TimeSpan duration, int thread = TargetThread, string category = KernelCategory)
    {
        lock (_lock)
        {
            _events.Add(new KernelEvent(name, start, duration, thread, category));
            var (calls, total) = _totals.GetValueOrDefault((category, name));
            _totals[(category, name)] = (calls + 1, total + duration);
        }
    }

    /// <summary>Times the code up to Dispose on the host clock: <c>using (profiler.Measure("MatMul")) { ... }</c>.</summary>
    public Scope Measure(string name, int thread = TargetThread, string category = KernelCategory) => new(this, name, thread, category, Now);

    /// <summary>
    /// A phase scope that does nothing when profiler is null, so a decoder's hot loop pays one
    /// null check and no allocation when profiling is off.
    /// </summary>
    public static Scope Phase(KernelProfiler? profiler, string name) =>
        new(profiler, name, PhaseThread, PhaseCategory, profiler?.Now ?? default);

    /// <summary>Labels a trace row in the viewer.</summary>
    public void NameThread(int thread, string name)
    {
        lock (_lock) _threadNames[thread] = name;
    }

    /// <summary>Totals per name in one category, largest total first.</summary>
    public IReadOnlyList<KernelStats> Summary(string category = KernelCategory)
    {
        lock (_lock)
            return _totals.Where(kv => kv.Key.Category == category)
                .Select(kv => new KernelStats(kv.Key.Name, kv.Value.Calls, kv.Value.Total))
                .OrderByDescending(s => s.Total).ThenBy(s => s.Name, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Sum of one category's times: for phases, the profiled decoding time.</summary>
    public TimeSpan Total(string category) => Summary(category).Aggregate(TimeSpan.Zero, (t, s) => t + s.Total);

    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
            _totals.Clear();
        }
    }

    /// <param name="shareOf">The share column's denominator (e.g. the phases' total, "share of step
    /// time"); by default the category's own total.</param>
    public void WriteTable(TextWriter writer, string category = KernelCategory, TimeSpan? shareOf = null)
    {
        var stats = Summary(category);
        double all = stats.Sum(s => s.Total.TotalMilliseconds), of = shareOf?.TotalMilliseconds ?? all;
        int width = Math.Max(6, stats.Select(s => s.Name.Length).DefaultIfEmpty(0).Max());
        writer.WriteLine($"{category.PadRight(width)}  {"calls",8}  {"total ms",10}  {"mean us",10}  {"share",6}");
        foreach (var s in stats)
            writer.WriteLine($"{s.Name.PadRight(width)}  {s.Calls,8}  {s.Total.TotalMilliseconds,10:F3}  {s.MeanMicroseconds,10:F1}  {(of > 0 ? s.Total.TotalMilliseconds / of : 0),6:P1}");
        writer.WriteLine($"{"total".PadRight(width)}  {stats.Sum(s => s.Calls),8}  {all,10:F3}  {"",10}  {(of > 0 ? all / of : 0),6:P1}");
    }

    /// <summary>
    /// Chrome trace JSON (object format): one complete ("X") event per launch or phase, times in
    /// microseconds, and a thread_name metadata event per named row.
    /// </summary>
    public void WriteChromeTrace(Stream stream, int processId = 1)
    {
        KeyValuePair<int, string>[] names;
        lock (_lock) names = _threadNames.ToArray();
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ms");
        json.WriteStartArray("traceEvents");
        foreach (var (thread, name) in names)
        {
            json.WriteStartObject();
            json.WriteString("name", "thread_name");
            json.WriteString("ph", "M");
            json.WriteNumber("pid", processId);
            json.WriteNumber("tid", thread);
            json.WriteStartObject("args");
            json.WriteString("name", name);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        foreach (var e in Events)
        {
            json.WriteStartObject();
            json.WriteString("name", e.Name);
            json.WriteString("cat", e.Category);
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

    public readonly struct Scope(KernelProfiler? profiler, string name, int thread, string category, TimeSpan start) : IDisposable
    {
        public void Dispose() => profiler?.Record(name, start, profiler.Now - start, thread, category);
    }
}

public readonly record struct KernelEvent(string Name, TimeSpan Start, TimeSpan Duration, int Thread, string Category = KernelProfiler.KernelCategory);

public readonly record struct KernelStats(string Name, int Calls, TimeSpan Total)
{
    public double MeanMicroseconds => Calls == 0 ? 0 : Total.TotalMicroseconds / Calls;
}
