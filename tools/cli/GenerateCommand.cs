using System.CommandLine;
using DistillSpec.Backends;

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
        using var model = LocalModel.Load(r.GetValue(o.Model)!, o.Placement(r, r.GetValue(o.Device)!, o.Format(r), profiler));
        Console.Error.WriteLine($"model device: {model.Device}");
        string prompt = r.GetValue(o.Prompt)!;

        Console.Write(prompt);
        GenerationStats? stats = null;
        foreach (var update in model.GenerateAsync(prompt, o.Generation(r)).ToBlockingEnumerable())
        {
            Console.Write(update.Text);
            stats ??= update.Stats;
        }
        Console.WriteLine();

        Console.Error.WriteLine();
        Console.Error.WriteLine($"model: {model.Path} ({model.Config.ArchitectureName}), backend: {model.Backend.Name}, weights: {string.Join(" + ", model.Model.Transformer.MatrixFormats)}");
        Console.Error.WriteLine($"prompt: {stats!.PromptTokens} tokens in {stats.PromptTime.TotalMilliseconds:F1} ms, {stats.PromptTokensPerSecond:F1} tokens/s");
        Console.Error.WriteLine($"decode: {stats.DecodedTokens} tokens in {stats.DecodeTime.TotalMilliseconds:F1} ms, {stats.DecodeTokensPerSecond:F1} tokens/s (finished by {stats.FinishReason})");
        if (profiler is not null) Console.Error.Write(profile.Report(r, profiler, model.Backend.Kind == BackendKind.Device));
        return 0;
    }
}
