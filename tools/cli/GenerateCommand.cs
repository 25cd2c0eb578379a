using System.CommandLine;
using DistillSpec.Generation;
using DistillSpec.Kernels;
using DistillSpec.Models;
using DistillSpec.Profiling;

namespace DistillSpec.Cli;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var options = new CommonOptions();
        var profile = new ProfileOption();
        var command = new Command("generate", "generate text with one model, streaming it as it is produced");
        options.AddTo(command);
        profile.AddTo(command);
        command.SetAction(r => CliErrors.Guard(() => Run(r, options, profile)));
        return command;
    }

    private static int Run(ParseResult r, CommonOptions o, ProfileOption profile)
    {
        var profiler = profile.Create(r);
        using var backend = DeviceBackend.Open(r.GetValue(o.Device)!, r.GetValue(o.Threads), profiler, "model", KernelProfiler.TargetThread);
        using var model = LanguageModel.Load(r.GetValue(o.Model)!, backend, o.Format(r), o.Loading(r));
        var tokenizer = model.Tokenizer;
        var prompt = PromptTokens.Encode(tokenizer, r.GetValue(o.Prompt)!);
        var decoder = tokenizer.CreateStreamingDecoder();
        var generator = new Generator(model.Transformer, o.Sampling(r), r.GetValue(o.Seed), profiler);

        Console.Write(r.GetValue(o.Prompt));
        var result = generator.Generate(prompt, r.GetValue(o.Tokens), tokenizer.EosIds.ToHashSet(),
            token => Console.Write(decoder.Append(token)));
        Console.WriteLine(decoder.Flush());

        Console.Error.WriteLine();
        Console.Error.WriteLine($"model: {model.Directory} ({model.Config.ArchitectureName}), backend: {backend.Name}, weights: {model.Transformer.WeightFormat}");
        Console.Error.WriteLine($"prompt: {result.PromptTokens} tokens in {result.PromptTime.TotalMilliseconds:F1} ms, {result.PromptTokensPerSecond:F1} tokens/s");
        Console.Error.WriteLine($"decode: {result.DecodeSteps} steps in {result.DecodeTime.TotalMilliseconds:F1} ms, {result.DecodeTokensPerSecond:F1} tokens/s (stop: {result.StopReason})");
        if (profiler is not null) Console.Error.Write(profile.Report(r, profiler, backend is IlgpuBackend));
        return 0;
    }
}
