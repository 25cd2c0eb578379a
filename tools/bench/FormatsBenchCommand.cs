using System.CommandLine;
using System.Text.Json;
using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Training;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// What BF16 and the block formats (Q8_0, Q4_0, Q4_K, Q6_K) cost and buy on a trained target/draft pair: held-out loss
/// of both models, target-only decode speed, and acceptance and speed-up of speculative decoding,
/// each format beside f32 in the same run; and an f32 target with a Q8_0 draft, since the draft's
/// precision changes only the speed of (lossless) speculative decoding, and likewise a Q4_K
/// target with a Q8_0 draft.
/// </summary>
internal static class FormatsBenchCommand
{
    private sealed record Settings(string Target, string Draft, string Prompts, int Count, int PromptTokens, int ReferenceTokens,
        int Tokens, int Gamma, int Threads, int Seed, string Output);

    private sealed record Row(WeightFormat Format, WeightFormat DraftFormat, double TargetLoss, double DraftLoss,
        SpeculativeStats Greedy, SpeculativeStats Sampled)
    {
        // Target-only decoding, from the baselines of the greedy runs.
        public double DecodeTokensPerSecond => Greedy.Baseline!.TokensPerSecond;
    }

    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "target model directory", DefaultValueFactory = _ => "weights/target" };
        var draft = new Option<string>("--draft") { Description = "draft model directory", DefaultValueFactory = _ => "weights/draft-code-tvd" };
        var prompts = new Option<string>("--prompts") { Description = "held-out JSONL with \"prompt\" and \"reference\" per line", DefaultValueFactory = _ => "data/prompts/code.jsonl" };
        var count = new Option<int>("--count") { Description = "prompts to use", DefaultValueFactory = _ => 100 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "prompt length: each prompt's last N tokens", DefaultValueFactory = _ => 32 };
        var referenceTokens = new Option<int>("--reference-tokens") { Description = "reference tokens scored for the held-out loss", DefaultValueFactory = _ => 48 };
        var tokens = new Option<int>("--tokens", "-n") { Description = "tokens generated per prompt", DefaultValueFactory = _ => 48 };
        var gamma = new Option<int>("--gamma") { Description = "draft length", DefaultValueFactory = _ => 4 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed", "-s") { Description = "sampling seed", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-formats.json" };
        var command = new Command("formats", "f32 vs bf16 vs block-format weights on a trained pair: held-out loss, decode tok/s, acceptance, speed-up")
        {
            target, draft, prompts, count, promptTokens, referenceTokens, tokens, gamma, threads, seed, output,
        };
        command.SetAction(r => Run(new Settings(r.GetValue(target)!, r.GetValue(draft)!, r.GetValue(prompts)!, r.GetValue(count),
            r.GetValue(promptTokens), r.GetValue(referenceTokens), r.GetValue(tokens), r.GetValue(gamma), r.GetValue(threads),
            r.GetValue(seed), r.GetValue(output)!)));
        return command;
    }

    private static int Run(Settings s)
    {
        int window = s.PromptTokens + s.ReferenceTokens;
        int[] all = DistillationData.Load(s.Prompts, s.Target, s.PromptTokens, s.ReferenceTokens, needReference: true, out int skipped);
        var windows = Enumerable.Range(0, Math.Min(s.Count, all.Length / window)).Select(i => all.AsSpan(i * window, window).ToArray()).ToList();
        var prompts = windows.Select(w => w[..s.PromptTokens]).ToList();

        var rows = new List<Row>();
        using (var backend = new SimdBackend(s.Threads))
            foreach (var (format, draftFormat) in new[]
            {
                (WeightFormat.F32, WeightFormat.F32), (WeightFormat.BF16, WeightFormat.BF16), (WeightFormat.Q8_0, WeightFormat.Q8_0),
                (WeightFormat.F32, WeightFormat.Q8_0), (WeightFormat.Q4_0, WeightFormat.Q4_0), (WeightFormat.Q4_K, WeightFormat.Q8_0),
                (WeightFormat.Q6_K, WeightFormat.Q6_K),
            })
            {
                AnsiConsole.MarkupLine($"[grey]{Name(format, draftFormat)}: loss, then speculative vs target-only decoding over {prompts.Count} prompts[/]");
                using var target = LanguageModel.Load(s.Target, backend, format);
                using var draft = LanguageModel.Load(s.Draft, backend, draftFormat);
                rows.Add(new Row(format, draftFormat, HeldOutLoss(target.Transformer, windows, s.PromptTokens), HeldOutLoss(draft.Transformer, windows, s.PromptTokens),
                    Speculate(target, draft, prompts, s, 0f), Speculate(target, draft, prompts, s, 1f)));
            }

        var f32 = rows[0];
        // Redirected output has no terminal width; keep table rows on one line for files and logs.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var table = new Table().Title($"Weight formats: {Markup.Escape(s.Target)} + {Markup.Escape(s.Draft)}, {prompts.Count} held-out prompts, gamma {s.Gamma}, {s.Threads} thread(s)");
        foreach (var column in new[] { "weights", "target loss", "Δ", "draft loss", "Δ", "target tok/s", "vs f32", "greedy alpha", "tau", "speed-up", "SD vs f32 target", "T=1 alpha", "tau", "speed-up" })
            table.AddColumn(column);
        foreach (var r in rows)
            table.AddRow(Name(r.Format, r.DraftFormat), $"{r.TargetLoss:F4}", $"{r.TargetLoss - f32.TargetLoss:+0.0000;-0.0000;0}", $"{r.DraftLoss:F4}",
                $"{r.DraftLoss - f32.DraftLoss:+0.0000;-0.0000;0}", $"{r.DecodeTokensPerSecond:F0}", $"{r.DecodeTokensPerSecond / f32.DecodeTokensPerSecond:F2}x",
                $"{r.Greedy.Alpha:F3}", $"{r.Greedy.BlockEfficiency:F2}", $"{r.Greedy.Speedup:F2}x", $"{r.Greedy.TokensPerSecond / f32.DecodeTokensPerSecond:F2}x",
                $"{r.Sampled.Alpha:F3}", $"{r.Sampled.BlockEfficiency:F2}", $"{r.Sampled.Speedup:F2}x");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"loss: mean NLL (nats/token) of the first {s.ReferenceTokens} reference tokens after each prompt's last {s.PromptTokens}; "
            + "tok/s: target-only decoding, greedy; speed-up: speculative vs target-only with the same target weights; SD vs f32 target: greedy speculative vs f32 target-only");

        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object> { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["runtime"] = Environment.Version.ToString() },
            ["target"] = s.Target, ["draft"] = s.Draft, ["prompts"] = s.Prompts, ["prompt_count"] = prompts.Count, ["prompts_skipped_too_short"] = skipped,
            ["prompt_tokens"] = s.PromptTokens, ["reference_tokens"] = s.ReferenceTokens, ["generated_tokens"] = s.Tokens,
            ["gamma"] = s.Gamma, ["threads"] = s.Threads, ["seed"] = s.Seed,
            ["results"] = rows.Select(r => new Dictionary<string, object>
            {
                ["weights"] = r.Format.ToString(), ["draft_weights"] = r.DraftFormat.ToString(),
                ["target_loss"] = r.TargetLoss, ["target_loss_change"] = r.TargetLoss - f32.TargetLoss,
                ["draft_loss"] = r.DraftLoss, ["draft_loss_change"] = r.DraftLoss - f32.DraftLoss,
                ["target_decode_tokens_per_s"] = r.DecodeTokensPerSecond,
                ["target_decode_speedup_vs_f32"] = r.DecodeTokensPerSecond / f32.DecodeTokensPerSecond,
                ["greedy"] = Measures(r.Greedy), ["temperature_1"] = Measures(r.Sampled),
                ["greedy_speculative_vs_f32_target_only"] = r.Greedy.TokensPerSecond / f32.DecodeTokensPerSecond,
            }).ToList(),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.Output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(s.Output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(s.Output)}[/]");
        return 0;
    }

    private static string Name(WeightFormat target, WeightFormat draft) => target == draft ? target.ToString() : $"{target} + {draft} draft";

    private static double HeldOutLoss(Transformer model, List<int[]> windows, int promptTokens) =>
        windows.Average(w => SequenceScore.MeanNegativeLogLikelihood(model, w.AsSpan(0, promptTokens), w.AsSpan(promptTokens)));

    private static SpeculativeStats Speculate(LanguageModel target, LanguageModel draft, List<int[]> prompts, Settings s, float temperature)
    {
        var settings = new SamplingSettings { Temperature = temperature, TopK = 0, TopP = 1f };
        var options = new SpeculativeOptions { DraftMax = s.Gamma }.Validate();
        using var decoder = new SpeculativeDecoder(target.Transformer, draft.Transformer, settings, options, s.Seed);
        // Untimed warm-up: the first calls of each shape pay for JIT compilation.
        decoder.GenerateAgainstBaseline(prompts[0], Math.Min(16, s.Tokens), s.Seed);
        return SpeculativeStats.Combine(prompts.Select((p, i) => decoder.GenerateAgainstBaseline(p, s.Tokens, s.Seed + i).Stats).ToList());
    }

    private static Dictionary<string, object> Measures(SpeculativeStats x) => new()
    {
        ["alpha"] = x.Alpha, ["tau"] = x.BlockEfficiency, ["speedup"] = x.Speedup ?? double.NaN,
        ["draft_step_ms"] = x.DraftStepTime.TotalMilliseconds, ["target_verify_ms"] = x.TargetCallTime.TotalMilliseconds,
        ["target_step_ms"] = x.Baseline?.StepTime.TotalMilliseconds ?? double.NaN,
    };
}
