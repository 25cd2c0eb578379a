using System.CommandLine;

namespace DistillSpec.Cli;

/// <summary>The dspec command line, runnable in-process (tests run hundreds of command lines without starting a process each).</summary>
public static class Cli
{
    private static readonly Lock s_console = new();

    public static RootCommand CreateRoot()
    {
        // Before the options are built: --device lists every registered backend.
        Kernels.GpuBackends.Register();
        return Commands();
    }

    private static RootCommand Commands() => new("DistillSpec engine: local generation and speculative decoding with distilled drafts")
    {
        GenerateCommand.Create(),
        ChatCommand.Create(),
        InitRandomCommand.Create(),
        SpeculateCommand.Create(),
        BenchSdCommand.Create(),
        ExportGgufCommand.Create(),
        ConvertCommand.Create(),
        TrainTokenizerCommand.Create(),
        TokenizeCommand.Create(),
        MakePromptsCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        DistillCommand.Create(),
        Reproduce.ReproduceCommand.Create(),
        Serve.ServeCommand.Create(),
        Serve.BenchServeCommand.Create(),
    };

    /// <summary>
    /// Runs one command line and returns its exit code: 0 on success, 1 for a usage error (printed
    /// with the command's help) or bad input (one "error:" line). Commands write to Console, so
    /// other writers are swapped in for the call; calls are serialised.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ReferenceEquals(stdout, Console.Out) && ReferenceEquals(stderr, Console.Error)) return Invoke(args, stdout, stderr);
        lock (s_console)
        {
            TextWriter previousOut = Console.Out, previousError = Console.Error;
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                return Invoke(args, stdout, stderr);
            }
            finally
            {
                Console.SetOut(previousOut);
                Console.SetError(previousError);
            }
        }
    }

    private static int Invoke(string[] args, TextWriter stdout, TextWriter stderr) =>
        CreateRoot().Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
}
