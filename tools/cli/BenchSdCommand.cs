using DistillSpec.Tokenization;
using System.CommandLine;
using System.Text.Json;
using DistillSpec.Cli.Plot;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using Spectre.Console;

namespace DistillSpec.Cli;

/// <summary>Sweeps gamma, lenience and temperature over a prompt file and reports the measures of each setting.</summary>
internal static class BenchSdCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var draft = new DraftOptions();
        var prompts = new Option<string>("--prompts") { Description = "prompt file: one prompt per line, or JSONL with a \"prompt\" field", Required = true };
        var gammas = new Option<string>("--gammas") { Description = "draft lengths to sweep, e.g. 1,2,4 or 1-8", DefaultValueFactory = _ => "1-8" };
        var lenience = new Option<string>("--lenience") { Description = "lenience values eps in (0, 1] to sweep", DefaultValueFactory = _ => "1" };
        var temps = new Option<string>("--temps") { Description = "temperatures to sweep (0 = greedy)", DefaultValueFactory = _ => "0,1" };
        var output = new Option<string>("--out", "-o") { Description = "JSON report to write", DefaultValueFactory = _ => "bench-sd.json" };
        var plot = new Option<string?>("--plot") { Description = "PNG of tau and speed-up against gamma" };
        var command = new Command("bench-sd", "sweep speculative decoding settings over prompts; table, JSON report and optional plot");
        foreach (var option in new Option[] { common.Model, common.Tokens, common.TopK, common.TopP, common.Seed, common.Threads, common.WeightFormat, common.Device, common.CheckWeights, prompts, gammas, lenience, temps, output, plot })
            command.Options.Add(option);
        draft.AddTo(command, withDraftMax: false);
        CommonOptions.Check(common.Tokens, n => n >= 1, "--n-predict must be at least 1");
        CommonOptions.Check(common.Threads, n => n >= 1, "--threads must be at least 1");
        command.SetAction(r => CliErrors.Guard(() =>
        {
            var sweep = new Sweep(
                NumberList.Ints(r.GetValue(gammas)!, "--gammas", 1, SpeculativeOptions.MaxDraft),
                NumberList.Floats(r.GetValue(lenience)!, "--lenience"),
                NumberList.Floats(r.GetValue(temps)!, "--temps"));
            if (sweep.Lenience.Any(e => !(e > 0 && e <= 1))) throw new FormatException("--lenience values must be in (0, 1]");
            if (sweep.Temperatures.Any(t => !(t >= 0 && float.IsFinite(t)))) throw new FormatException("--temps must be finite numbers >= 0");
            return Run(r, common, draft, sweep, PromptFile.Read(r.GetValue(prompts)!), r.GetValue(output)!, r.GetValue(plot));
        }));
        return command;
    }

    private sealed record Sweep(int[] Gammas, float[] Lenience, float[] Temperatures);

    private sealed record Row(int Gamma, float Lenience, float Temperature, SpeculativeStats Stats);

    private static int Run(ParseResult r, CommonOptions common, DraftOptions draftOptions, Sweep sweep, List<string> texts, string output, string? plotPath)
    {
        using var pair = PairLoader.Load(r, common, draftOptions);
        var prompts = texts.Select(t => pair.Target.Tokenizer.EncodePrompt(t)).ToList();
        int n = r.GetValue(common.Tokens), seed = r.GetValue(common.Seed);
        var stop = pair.Target.StopTokens(new GenerationOptions { IgnoreEndOfSequence = r.GetValue(draftOptions.IgnoreEos) });
        SamplingSettings Settings(float t) => new SamplingSettings { Temperature = t, TopK = r.GetValue(common.TopK), TopP = r.GetValue(common.TopP) }.Validate();

        var rows = new List<Row>();
        AnsiConsole.Progress().Start(progress =>
        {
            var task = progress.AddTask("bench-sd", maxValue: sweep.Temperatures.Length * sweep.Lenience.Length * sweep.Gammas.Length);
            foreach (float t in sweep.Temperatures)
                foreach (float eps in sweep.Lenience)
                    foreach (int g in sweep.Gammas)
                    {
                        var settings = Settings(t);
                        using var decoder = pair.Decoder(settings, draftOptions.Speculative(r, g, eps), seed);
                        var runs = prompts.Select(p => decoder.GenerateAgainstBaseline(p, n, seed, stop).Stats).ToList();
                        rows.Add(new Row(g, eps, t, SpeculativeStats.Combine(runs)));
                        task.Increment(1);
                    }
        });

        // Redirected output has no terminal width; keep table rows on one line for files and logs.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        string function = r.GetValue(draftOptions.LenienceFunction)!;
        AnsiConsole.MarkupLineInterpolated($"target [bold]{pair.Target.Path}[/], draft [bold]{pair.Draft.Path}[/], {prompts.Count} prompts x {n} tokens, lenience function {function}, {pair.Devices}");
        AnsiConsole.Write(Table(rows));
        IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(Report(pair, prompts.Count, n, r.GetValue(common.TopK), r.GetValue(common.TopP), function, rows),
            new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        AnsiConsole.MarkupLineInterpolated($"wrote {output}");
        if (plotPath is not null)
        {
            var series = rows.GroupBy(x => (x.Lenience, x.Temperature)).Select(group => new PlotSeries(
                $"eps {group.Key.Lenience}, T {group.Key.Temperature}",
                [.. group.Select(x => (double)x.Gamma)],
                [.. group.Select(x => x.Stats.BlockEfficiency)],
                [.. group.Select(x => x.Stats.Speedup ?? double.NaN)])).ToList();
            SpeedupPlot.Write(plotPath, series);
            AnsiConsole.MarkupLineInterpolated($"wrote {plotPath}: left tau, right speed-up (dashed line = 1), against gamma");
        }
        return 0;
    }

    private static Table Table(List<Row> rows)
    {
        var table = new Table();
        foreach (string c in new[] { "gamma", "eps", "T", "alpha", "accept", "tau", "tau th.", "c", "MBSU", "speed-up" })
            table.AddColumn(new TableColumn(c).RightAligned());
        table.AddColumn("acceptance by position");
        foreach (var (g, eps, t, s) in rows)
            table.AddRow($"{g}", $"{eps}", $"{t}", StatsTable.F(s.Alpha), StatsTable.F(s.EmpiricalAcceptance), StatsTable.F(s.BlockEfficiency),
                StatsTable.F(s.TheoreticalBlockEfficiency), StatsTable.F(s.CostRatio ?? double.NaN), StatsTable.F(s.MemoryBoundSpeedup ?? double.NaN),
                StatsTable.F(s.Speedup ?? double.NaN) + "x", StatsTable.ByPosition(s));
        return table;
    }

    private static object Report(SpeculativePair pair, int prompts, int tokens, int topK, float topP, string lenienceFunction, List<Row> rows) => new
    {
        Target = pair.Target.Path,
        Draft = pair.Draft.Path,
        TargetBackend = pair.Target.Backend.Name,
        DraftBackend = pair.Draft.Backend.Name,
        VerifiesOnDevice = pair.VerifiesOnDevice,
        Prompts = prompts,
        TokensPerPrompt = tokens,
        TopK = topK,
        TopP = topP,
        LenienceFunction = lenienceFunction,
        Rows = rows.Select(x => new
        {
            x.Gamma,
            x.Lenience,
            x.Temperature,
            Alpha = Finite(x.Stats.Alpha),
            Acceptance = Finite(x.Stats.EmpiricalAcceptance),
            Tau = Finite(x.Stats.BlockEfficiency),
            TauTheory = Finite(x.Stats.TheoreticalBlockEfficiency),
            MeanGamma = Finite(x.Stats.MeanGamma),
            CostRatio = Finite(x.Stats.CostRatio),
            Mbsu = Finite(x.Stats.MemoryBoundSpeedup),
            Speedup = Finite(x.Stats.Speedup),
            AcceptanceByPosition = Enumerable.Range(1, x.Stats.GammaMax).Select(i => Finite(x.Stats.AcceptanceAt(i))).ToArray(),
            Tokens = x.Stats.Emitted,
            x.Stats.TargetCalls,
            x.Stats.Drafted,
            x.Stats.AcceptedDrafts,
            SpeculativeSeconds = x.Stats.TotalTime.TotalSeconds,
            BaselineSeconds = x.Stats.Baseline?.TotalTime.TotalSeconds,
            BaselineTokens = x.Stats.Baseline?.Tokens,
            DraftStepMs = x.Stats.DraftStepTime.TotalMilliseconds,
            TargetCallMs = x.Stats.TargetCallTime.TotalMilliseconds,
            TargetStepMs = x.Stats.Baseline?.StepTime.TotalMilliseconds,
        }),
    };

    // JSON has no NaN; an undefined measure (nothing drafted) is null.
    private static double? Finite(double? x) => x is double v && double.IsFinite(v) ? v : null;
}
