using System.CommandLine;
using DistillSpec.Speculative;
using Spectre.Console;

namespace DistillSpec.Cli;

/// <summary>Speculative decoding of one prompt, streamed, then the measures against target-only decoding.</summary>
internal static class SpeculateCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var draft = new DraftOptions();
        var profile = new ProfileOption();
        var lenience = new Option<float>("--lenience") { Description = "eps in (0, 1]: accept when u < p/(eps q); 1 = lossless", DefaultValueFactory = _ => 1f };
        var command = new Command("speculate", "generate with a target model and a draft (speculative decoding), then report acceptance and speed-up");
        common.AddTo(command);
        draft.AddTo(command);
        command.Options.Add(lenience);
        profile.AddTo(command);
        CommonOptions.Check(lenience, e => e > 0 && e <= 1, "--lenience must be in (0, 1]");
        command.SetAction(r => CliErrors.Guard(() => Run(r, common, draft, profile, r.GetValue(lenience))));
        return command;
    }

    private static int Run(ParseResult r, CommonOptions common, DraftOptions draftOptions, ProfileOption profile, float lenience)
    {
        using var pair = ModelPair.Load(r.GetValue(common.Model)!, r.GetValue(draftOptions.Draft)!, r.GetValue(common.Device)!,
            r.GetValue(draftOptions.Device)!, r.GetValue(common.Threads), common.Format(r), draftOptions.Format(r, common.Format(r)), profile.Create(r), common.Loading(r));
        var tokenizer = pair.Target.Tokenizer;
        string text = r.GetValue(common.Prompt)!;
        var prompt = PromptTokens.Encode(tokenizer, text);
        var settings = common.Sampling(r);
        var options = draftOptions.Speculative(r, lenience: lenience);
        int n = r.GetValue(common.Tokens), seed = r.GetValue(common.Seed);
        var stop = pair.StopTokens(r.GetValue(draftOptions.IgnoreEos));
        pair.WarmUp(prompt, n, settings, options);

        using var decoder = pair.Decoder(settings, options, seed);
        var stream = tokenizer.CreateStreamingDecoder();
        Console.Write(text);
        var result = decoder.Generate(prompt, n, stop, token => Console.Write(stream.Append(token)));
        Console.WriteLine(stream.Flush());
        string? report = pair.Profiler is { } profiler ? profile.Report(r, profiler, pair.TargetBackend is Kernels.IlgpuBackend) : null;

        var baseline = pair.Baseline(prompt, n, settings, seed, stop);
        var stats = result.Stats with { Baseline = BaselineTiming.From(baseline) };
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;  // no terminal to size the table by
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated($"target [bold]{pair.Target.Directory}[/], draft [bold]{pair.Draft.Directory}[/], {pair.Devices}");
        string drafting = $"gamma {options.DraftMax}{(options.Adaptive ? " adaptive" : "")}{(options.DraftPMin > 0 ? $", draft-p-min {options.DraftPMin}" : "")}";
        AnsiConsole.MarkupLineInterpolated($"settings: {Describe(settings)}, {drafting}, lenience {options.Lenience}, stop {result.StopReason}");
        AnsiConsole.Write(StatsTable.Create(stats));
        if (report is not null) Console.Write(report);
        return 0;
    }

    private static string Describe(Sampling.SamplingSettings s) =>
        s.Greedy ? "greedy" : $"temp {s.Temperature}, top-k {s.TopK}, top-p {s.TopP}";
}
