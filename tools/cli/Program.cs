using System.CommandLine;
using DistillSpec.Cli;

// Before the options are built: --device lists every registered backend.
DistillSpec.Kernels.GpuBackends.Register();

var root = new RootCommand("DistillSpec engine: local generation and speculative decoding with distilled drafts")
{
    GenerateCommand.Create(),
    ChatCommand.Create(),
    InitRandomCommand.Create(),
    SpeculateCommand.Create(),
    BenchSdCommand.Create(),
    ExportGgufCommand.Create(),
    TrainTokenizerCommand.Create(),
    TokenizeCommand.Create(),
    MakePromptsCommand.Create(),
    TrainCommand.Create(),
    DistillCommand.Create(),
    DistillSpec.Cli.Reproduce.ReproduceCommand.Create(),
    DistillSpec.Cli.Serve.ServeCommand.Create(),
    DistillSpec.Cli.Serve.BenchServeCommand.Create(),
};
return root.Parse(args).Invoke();
