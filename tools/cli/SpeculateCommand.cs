using System.CommandLine;
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
        var lenience = new Option<float>("--lenience") { Description = "eps in (0, 1]: accept when u < f(p, eps)/q (f from --lenience-fn; lin: p/eps); 1 = lossless", DefaultValueFactory = _ => 1f };
        var statsJson = new Option<string?>("--stats-json") { Description = "also write the measures to this JSON file" };
        var command = new Command("speculate", "generate with a target model and a draft (speculative decoding), then report acceptance and speed-up");
        common.AddTo(command);
        draft.AddTo(command);
        command.Options.Add(lenience);
        command.Options.Add(statsJson);
        profile.AddTo(command);
        CommonOptions.Check(lenience, e => e > 0 && e <= 1, "--lenience must be in (0, 1]");
        command.SetAction(r => CliErrors.Guard(() => Run(r, common, draft, profile, r.GetValue(lenience), r.GetValue(statsJson))));
        return command;
    }

    private static int Run(ParseResult r, CommonOptions common, DraftOptions draftOptions, ProfileOption profile, float lenience, string? statsJson)
    {
        var profiler = profile.Create(r);
        using var pair = PairLoader.Load(r, common, draftOptions, profiler);
        string text = r.GetValue(common.Prompt)!;
        var speculation = draftOptions.Speculative(r, lenience: lenience);
        // A profiled run keeps the baseline out of the profile: its speed-up is estimated from the step calibrated at load.
        var options = common.Generation(r) with
        {
            IgnoreEndOfSequence = r.GetValue(draftOptions.IgnoreEos),
            MeasureBaseline = profiler is null,
        };

        Console.Write(text);
        GenerationStats? stats = null;
        foreach (var update in pair.GenerateAsync(text, options, speculation).ToBlockingEnumerable())
        {
            Console.Write(update.Text);
            stats ??= update.Stats;
        }
        Console.WriteLine();
        string? report = profiler is not null ? profile.Report(r, profiler, pair.Target.Backend.Kind == Backends.BackendKind.Device) : null;

        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;  // no terminal to size the table by
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated($"target [bold]{pair.Target.Path}[/], draft [bold]{pair.Draft.Path}[/], {pair.Devices}");
        string drafting = $"gamma {speculation.DraftMax}{(speculation.Adaptive ? " adaptive" : "")}{(speculation.DraftPMin > 0 ? $", draft-p-min {speculation.DraftPMin}" : "")}";
        AnsiConsole.MarkupLineInterpolated($"settings: {Describe(options.Sampling)}, {drafting}, lenience {speculation.Lenience} ({LenienceFunctionNames.Name(speculation.LenienceFunction)}), finished by {stats!.FinishReason}");
        AnsiConsole.Write(StatsTable.Create(stats.Speculative!));
        if (report is not null) Console.Write(report);
        if (statsJson is not null) WriteStats(statsJson, stats.Speculative!);
        return 0;
    }

    private static void WriteStats(string path, Speculative.SpeculativeStats s) =>
        IO.AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new
        {
            alpha = s.Alpha, tau = s.BlockEfficiency, cost_ratio = s.CostRatio, mbsu = s.MemoryBoundSpeedup, speedup = s.Speedup,
            speedup_estimated = s.Baseline?.Estimated, tokens = s.Emitted, tokens_per_second = s.TokensPerSecond,
            baseline_tokens_per_second = s.Baseline?.TokensPerSecond, target_step_ms = s.Baseline?.StepTime.TotalMilliseconds,
        }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

    private static string Describe(Sampling.SamplingSettings s) =>
        s.Greedy ? "greedy" : $"temp {s.Temperature}, top-k {s.TopK}, top-p {s.TopP}";
}
