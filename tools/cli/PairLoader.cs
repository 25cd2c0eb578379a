using System.CommandLine;
using DistillSpec.Profiling;

namespace DistillSpec.Cli;

/// <summary>The command line's target and draft options as a loaded SpeculativePair, saying on stderr where each model runs.</summary>
internal static class PairLoader
{
    public static SpeculativePair Load(ParseResult r, CommonOptions common, DraftOptions draft, KernelProfiler? profiler = null)
    {
        var targetFormat = common.Format(r);
        var pair = SpeculativePair.Load(r.GetValue(common.Model)!, r.GetValue(draft.Draft)!, new SpeculativePairOptions
        {
            Target = new ModelOptions { Device = r.GetValue(common.Device)!, Threads = r.GetValue(common.Threads), WeightFormat = targetFormat, Profiler = profiler },
            Draft = new ModelOptions { Device = r.GetValue(draft.Device)!, Threads = r.GetValue(common.Threads), WeightFormat = draft.Format(r, targetFormat), Profiler = profiler },
        });
        Console.Error.WriteLine($"devices: {pair.Devices}");
        return pair;
    }
}
