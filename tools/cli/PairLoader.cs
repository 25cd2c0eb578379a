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
            Target = common.Placement(r, r.GetValue(common.Device)!, targetFormat, profiler),
            Draft = common.Placement(r, r.GetValue(draft.Device)!, draft.Format(r, targetFormat), profiler),
        });
        Console.Error.WriteLine($"devices: {pair.Devices}");
        return pair;
    }
}
