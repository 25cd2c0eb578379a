using System.CommandLine;
using DistillSpec.Profiling;

namespace DistillSpec.Cli;

/// <summary>--profile [trace.json]: per-kernel and per-phase tables, and optionally a Chrome trace.</summary>
internal sealed class ProfileOption
{
    public Option<string?> Option { get; } = new("--profile")
    {
        Description = "time every kernel or backend op and the decoding phases, print the tables, and write a Chrome trace (chrome://tracing, ui.perfetto.dev) to the file if one is named",
        Arity = ArgumentArity.ZeroOrOne,
        HelpName = "trace.json",
    };

    public void AddTo(Command command) => command.Options.Add(Option);

    /// <summary>A profiler when --profile was given, else null (no timing at all).</summary>
    public KernelProfiler? Create(ParseResult r)
    {
        if (r.GetResult(Option) is null) return null;
        var profiler = new KernelProfiler();
        profiler.NameThread(KernelProfiler.PhaseThread, "phases");
        return profiler;
    }

    /// <summary>
    /// The tables as text, and the trace written now, so that whatever runs later (the baseline)
    /// stays out of both. Shares are of the phases' total: the profiled decoding time.
    /// </summary>
    public string Report(ParseResult r, KernelProfiler profiler, bool synchronisedGpu)
    {
        var text = new StringWriter();
        var decoding = profiler.Total(KernelProfiler.PhaseCategory);
        text.WriteLine();
        text.WriteLine($"profile: {decoding.TotalMilliseconds:F1} ms in the phases below; share = of that time");
        profiler.WriteTable(text, KernelProfiler.KernelCategory, decoding);
        text.WriteLine();
        profiler.WriteTable(text, KernelProfiler.PhaseCategory, decoding);
        if (synchronisedGpu) text.WriteLine("(profiling waits for every GPU launch to finish, so the phases run slower than unprofiled)");
        if (r.GetValue(Option) is { } path)
        {
            IO.AtomicFile.Write(path, file => profiler.WriteChromeTrace(file));
            text.WriteLine($"wrote {path}: {profiler.Events.Count} events; open it in ui.perfetto.dev or chrome://tracing");
        }
        return text.ToString();
    }
}
