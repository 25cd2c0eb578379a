using System.CommandLine;
using DistillSpec.Bench;

var root = new RootCommand("DistillSpec benchmarks: print a table and write a JSON report")
{
    CpuBenchCommand.Create(),
    PeersBenchCommand.Create(),
    TrainGemmBenchCommand.Create(),
    GgufLogitsBenchCommand.Create(),
    FormatsBenchCommand.Create(),
    BlocksBenchCommand.Create(),
    StartupBenchCommand.Create(),
    RepeatBenchCommand.Create(),
    TokenizersBenchCommand.Create(),
    PtxBenchCommand.Create(),
    GpuBenchCommand.Create(),
    GgufPeersBenchCommand.Create(),
    GgufProbeCommand.Create(),
};
return root.Parse(args).Invoke();
