using System.CommandLine;
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Kernels;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.IO;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// The one-command check of a GPU (tools/gpu/check.sh runs it after the op suite): on a random
/// model of Qwen2.5-0.5B's shape and on the shipped target/draft pair, in every weight format,
/// whole-model logits against the CPU, decode speed, a 5-token verification pass against a decode
/// step, speculative decoding with the target on the GPU and the draft on the CPU, and each decode
/// kernel's achieved bandwidth against the device's memory roofline. Writes reports/gpu-check.json
/// and .md. Without the device it says so and exits 0.
/// </summary>
internal static class GpuBenchCommand
{
    private const int VerifyTokens = 5, PromptTokens = 16, Seed = 1;

    private sealed record Settings(string Device, string Target, string Draft, ModelConfig RandomShape, int Tokens, int Gamma,
        int Threads, string Output);

    private sealed record Candidate(string Name, ModelConfig Config, ModelWeights Weights, ModelConfig DraftConfig, ModelWeights DraftWeights, int[] Prompt);

    private sealed record Result(string Model, WeightFormat Format, double MaxLogitError, double LogitScale, int ArgmaxAgreement, int Positions,
        double DecodeTokensPerSecond, double StepMs, double VerifyMs, SpeculativeStats Speculative, List<KernelBandwidth> Kernels);

    private sealed record KernelBandwidth(string Kernel, double MicrosecondsPerStep, double BytesPerStep, double GBps, double? RooflineShare);

    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "registered device to check (ilgpu-cpu runs the same code on the emulator)", DefaultValueFactory = _ => "cuda" };
        var target = new Option<string>("--target") { Description = "shipped target directory ('' to skip the pair)", DefaultValueFactory = _ => "weights/target" };
        var draft = new Option<string>("--draft") { Description = "its draft directory", DefaultValueFactory = _ => "weights/draft-code-tvd" };
        var hidden = new Option<int>("--hidden") { Description = "random model: hidden size (Qwen2.5-0.5B: 896)", DefaultValueFactory = _ => 896 };
        var layers = new Option<int>("--layers") { Description = "random model: layers", DefaultValueFactory = _ => 24 };
        var heads = new Option<int>("--heads") { Description = "random model: attention heads", DefaultValueFactory = _ => 14 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "random model: key/value heads", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int>("--intermediate") { Description = "random model: MLP size", DefaultValueFactory = _ => 4864 };
        var vocab = new Option<int>("--vocab") { Description = "random model: vocabulary", DefaultValueFactory = _ => 151936 };
        var tokens = new Option<int>("--tokens", "-n") { Description = "tokens per decode and speculative run", DefaultValueFactory = _ => 128 };
        var gamma = new Option<int>("--gamma") { Description = "draft length", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads", "-t") { Description = "CPU threads for the draft and the CPU reference (0: all cores)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "report path without extension (.md and .json are written)", DefaultValueFactory = _ => "reports/gpu-check" };
        var command = new Command("gpu", "check a GPU: logits vs CPU, decode, 5-token verification, speculative decoding, kernel bandwidth vs roofline")
        {
            device, target, draft, hidden, layers, heads, kvHeads, intermediate, vocab, tokens, gamma, threads, output,
        };
        command.SetAction(r =>
        {
            var shape = RandomModel.LlamaConfig(r.GetValue(hidden), r.GetValue(layers), r.GetValue(heads), r.GetValue(kvHeads),
                r.GetValue(intermediate), r.GetValue(vocab), context: 1024) with { ArchitectureName = "Qwen2ForCausalLM", AttentionBias = true };
            return Run(new Settings(r.GetValue(device)!, r.GetValue(target)!, r.GetValue(draft)!, shape, r.GetValue(tokens), r.GetValue(gamma),
                r.GetValue(threads), r.GetValue(output)!));
        });
        return command;
    }

    private static int Run(Settings s)
    {
        GpuBackends.Register();
        OpenedBackend opened;
        try
        {
            opened = BackendRegistry.Open(s.Device);
        }
        catch (DeviceUnavailableException e)
        {
            AnsiConsole.MarkupLine($"[yellow]no {Markup.Escape(s.Device == "cuda" ? "CUDA" : s.Device)} device[/] ({Markup.Escape(e.Message)}): device checks skipped");
            return 0;
        }
        using var gpu = opened.Backend;
        using var cpu = new SimdBackend(s.Threads);
        // A second backend on the same device that times every launch there, for the bandwidth table.
        var profiler = new KernelProfiler();
        using var timed = BackendRegistry.Open(s.Device, new BackendOptions(Profiler: profiler)).Backend;
        AnsiConsole.MarkupLine($"device: {Markup.Escape(opened.Description)}; peak memory bandwidth: {(gpu.PeakMemoryGBps is double p ? $"{p:F0} GB/s" : "unknown")}");

        var results = new List<Result>();
        foreach (var candidate in Candidates(s))
            foreach (var format in Enum.GetValues<WeightFormat>())
            {
                if (!gpu.Supports(format)) continue;
                results.Add(Measure(candidate, format, gpu, cpu, timed, profiler, s));
                // Rewritten after every row, so a run cut short by a time limit still leaves what it measured.
                WriteReport(s, opened.Description, gpu.PeakMemoryGBps, results, print: false);
            }

        WriteReport(s, opened.Description, gpu.PeakMemoryGBps, results, print: true);
        return 0;
    }

    private static IEnumerable<Candidate> Candidates(Settings s)
    {
        var c = s.RandomShape;
        // A small random draft over the same vocabulary: acceptance is near chance, but every round's costs are real.
        var draftConfig = RandomModel.LlamaConfig(128, 2, 2, 1, 384, c.VocabSize, context: c.MaxPositions);
        var prompt = RandomTokens(PromptTokens, c.VocabSize);
        var clock = Stopwatch.StartNew();
        var weights = ModelWeights.Random(c, Seed);
        AnsiConsole.MarkupLine($"[grey]random {c.HiddenSize}x{c.Layers} model, vocab {c.VocabSize}: {weights.Parameters().Sum(p => (long)p.Data.Length) / 1e6:F0}M parameters in {clock.Elapsed.TotalSeconds:F1} s[/]");
        // The defaults are Qwen2.5-0.5B's shape; the name gives the shape actually run.
        yield return new Candidate($"random {c.HiddenSize}x{c.Layers}, {c.Heads}/{c.KvHeads} heads, ffn {c.IntermediateSize}, vocab {c.VocabSize}", c, weights, draftConfig, ModelWeights.Random(draftConfig, Seed + 1), prompt);

        if (s.Target.Length == 0) yield break;
        var targetConfig = ModelConfig.Load(s.Target);
        var draftShipped = ModelConfig.Load(s.Draft);
        var tokenizer = Tokenization.TextTokenizer.Load(s.Target);
        var text = tokenizer.Encode("def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n        return n\n", addBos: true);
        yield return new Candidate($"shipped {Path.GetFileName(s.Target)} + {Path.GetFileName(s.Draft)}", targetConfig, HfCheckpoint.Load(s.Target, targetConfig),
            draftShipped, HfCheckpoint.Load(s.Draft, draftShipped), text);
    }

    private static Result Measure(Candidate m, WeightFormat format, IBackend gpu, IBackend cpu, IBackend timed, KernelProfiler profiler, Settings s)
    {
        int v = m.Config.VocabSize, k = m.Prompt.Length;
        var phases = new List<string>();
        var clock = Stopwatch.StartNew();
        void Phase(string name)
        {
            phases.Add($"{name} {clock.Elapsed.TotalSeconds:F1} s");
            clock.Restart();
        }
        using var target = new Transformer(m.Config, m.Weights, gpu, format);

        // Logits of every prompt position, device against CPU, with the same stored weights.
        var expected = new float[k * v];
        var actual = new float[k * v];
        using (var reference = new Transformer(m.Config, m.Weights, cpu, format))
        using (var cache = reference.CreateCache(k))
            reference.Forward(m.Prompt, 0, cache, expected);
        using (var cache = target.CreateCache(k))
            target.Forward(m.Prompt, 0, cache, actual);
        double error = 0, scale = 0;
        int agree = 0;
        for (int i = 0; i < k; i++)
        {
            var e = expected.AsSpan(i * v, v);
            var a = actual.AsSpan(i * v, v);
            for (int j = 0; j < v; j++) error = Math.Max(error, Math.Abs(e[j] - a[j]));
            scale = Math.Max(scale, TensorPrimitives.MaxMagnitude(e));
            if (TensorPrimitives.IndexOfMax(e) == TensorPrimitives.IndexOfMax(a)) agree++;
        }
        Phase("load and logits");

        // Decode: greedy, logits and sampling on the device. The first run compiles the kernels.
        var generator = new Generator(target, SamplingSettings.GreedyDecoding, Seed);
        generator.Generate(m.Prompt, 8);
        var decode = generator.Generate(m.Prompt, s.Tokens);
        Phase("decode");

        // One decode step and one 5-token verification pass at the same position, each waited for.
        double stepMs, verifyMs;
        using (var cache = target.CreateCache(k + VerifyTokens))
        {
            target.Forward(m.Prompt, 0, cache);
            var block = m.Prompt[..VerifyTokens];
            var one = new float[1];
            stepMs = Timing.BestSeconds(() => gpu.Download(target.ForwardLast(block[..1], k, cache), 0, one), minRuns: 10) * 1e3;
            verifyMs = Timing.BestSeconds(() => gpu.Download(target.Forward(block, k, cache), 0, one), minRuns: 10) * 1e3;
        }
        Phase("verification");

        var speculative = Speculate(m, target, cpu, s);
        Phase("speculative");
        var kernels = Bandwidth(m, format, s, timed, profiler);
        Phase("bandwidth");
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(m.Name)} {format}: {string.Join(", ", phases)}[/]");
        return new Result(m.Name, format, error, scale, agree, k, decode.DecodeTokensPerSecond, stepMs, verifyMs, speculative, kernels);
    }

    // Target on the device (verifying there), draft on the CPU in f32, greedy.
    private static SpeculativeStats Speculate(Candidate m, Transformer target, IBackend cpu, Settings s)
    {
        using var draft = new Transformer(m.DraftConfig, m.DraftWeights, cpu);
        using var verifier = target.Backend.CreateVerifier();
        var options = new SpeculativeOptions { DraftMax = s.Gamma }.Validate();
        using var decoder = new SpeculativeDecoder(target, draft, SamplingSettings.GreedyDecoding, options, Seed, verifier);
        decoder.GenerateAgainstBaseline(m.Prompt, 16, Seed);
        return decoder.GenerateAgainstBaseline(m.Prompt, s.Tokens, Seed).Stats;
    }

    // Decode from a one-token prompt on a backend that times every launch on the device, so every
    // forward pass is a decode step; bytes per step from DecodeTraffic at each position.
    private static List<KernelBandwidth> Bandwidth(Candidate m, WeightFormat format, Settings s, IBackend backend, KernelProfiler profiler)
    {
        double? peak = backend.PeakMemoryGBps;
        using var model = new Transformer(m.Config, m.Weights, backend, format);
        var generator = new Generator(model, SamplingSettings.GreedyDecoding, Seed);
        int steps = Math.Min(s.Tokens, 64);
        generator.Generate(m.Prompt[..1], 4);
        profiler.Clear();
        generator.Generate(m.Prompt[..1], steps);

        var bytes = new Dictionary<string, double>();
        for (int position = 0; position < steps; position++)
            foreach (var (kernel, b) in DecodeTraffic.Step(m.Config, format, position))
                bytes[kernel] = bytes.GetValueOrDefault(kernel) + b;
        return profiler.Summary()
            .OrderByDescending(k => k.Total)
            .Select(k =>
            {
                double seconds = k.Total.TotalSeconds;
                double? moved = bytes.TryGetValue(k.Name, out double b) ? b : null;
                double gbps = moved is double x && seconds > 0 ? x / seconds / 1e9 : double.NaN;
                return new KernelBandwidth(k.Name, k.Total.TotalMicroseconds / steps, (moved ?? double.NaN) / steps, gbps,
                    peak is double p && !double.IsNaN(gbps) ? gbps / p : null);
            })
            .ToList();
    }

    private static void WriteReport(Settings s, string device, double? peak, List<Result> results, bool print)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 220;
        var md = new StringBuilder()
            .AppendLine("# GPU check")
            .AppendLine()
            .AppendLine($"Written by `dspec-bench gpu` (tools/gpu/check.sh). Device: {device}; peak memory bandwidth "
                + $"{(peak is double p ? $"{p:F0} GB/s" : "unknown")}. Greedy, {s.Tokens} tokens per run, gamma {s.Gamma}, draft on the CPU "
                + $"({Environment.ProcessorCount} cores). Logit error: max |device - CPU| over the prompt's positions, same stored weights.")
            .AppendLine()
            .AppendLine("| model | weights | max logit error | logit scale | argmax agree | decode tok/s | step ms | 5-token verify ms | verify / step | SD tok/s | alpha | tau | SD speed-up |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var table = new Table().Title($"GPU check: {Markup.Escape(device)}");
        foreach (var c in new[] { "model", "weights", "logit err", "scale", "argmax", "decode tok/s", "step ms", "verify5 ms", "ratio", "SD tok/s", "alpha", "tau", "SD speed-up" })
            table.AddColumn(c);
        foreach (var r in results)
        {
            string[] cells =
            [
                r.Model, r.Format.ToString(), $"{r.MaxLogitError:E2}", $"{r.LogitScale:F3}", $"{r.ArgmaxAgreement}/{r.Positions}",
                $"{r.DecodeTokensPerSecond:F1}", $"{r.StepMs:F3}", $"{r.VerifyMs:F3}", $"{r.VerifyMs / r.StepMs:F2}x",
                $"{r.Speculative.TokensPerSecond:F1}", $"{r.Speculative.Alpha:F3}", $"{r.Speculative.BlockEfficiency:F2}", $"{r.Speculative.Speedup:F2}x",
            ];
            table.AddRow(cells.Select(Markup.Escape).ToArray());
            md.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        if (print) AnsiConsole.Write(table);

        md.AppendLine().AppendLine("Decode kernels: device time per step and achieved bandwidth (bytes a perfect kernel moves, from the model's shapes).").AppendLine()
            .AppendLine("| model | weights | kernel | us/step | MB/step | GB/s | of roofline |").AppendLine("|---|---|---|---:|---:|---:|---:|");
        var kernels = new Table().Title("Decode kernels vs the memory roofline");
        foreach (var c in new[] { "model", "weights", "kernel", "us/step", "MB/step", "GB/s", "of roofline" }) kernels.AddColumn(c);
        foreach (var r in results)
            foreach (var k in r.Kernels)
            {
                string[] cells = [r.Model, r.Format.ToString(), k.Kernel, $"{k.MicrosecondsPerStep:F1}", $"{k.BytesPerStep / 1e6:F3}", $"{k.GBps:F1}", k.RooflineShare is double x ? $"{x:P1}" : "-"];
                kernels.AddRow(cells.Select(Markup.Escape).ToArray());
                md.AppendLine("| " + string.Join(" | ", cells) + " |");
            }
        if (print) AnsiConsole.Write(kernels);

        var report = new Dictionary<string, object?>
        {
            ["device"] = device, ["peak_memory_gbps"] = peak, ["tokens"] = s.Tokens, ["gamma"] = s.Gamma, ["cpu_cores"] = Environment.ProcessorCount,
            ["results"] = results.Select(r => new Dictionary<string, object?>
            {
                ["model"] = r.Model, ["weights"] = r.Format.ToString(),
                ["max_logit_error"] = r.MaxLogitError, ["logit_scale"] = r.LogitScale, ["argmax_agreement"] = r.ArgmaxAgreement, ["positions"] = r.Positions,
                ["decode_tokens_per_s"] = r.DecodeTokensPerSecond, ["decode_step_ms"] = r.StepMs, ["verify_5_tokens_ms"] = r.VerifyMs,
                ["speculative"] = new Dictionary<string, object?>
                {
                    ["tokens_per_s"] = r.Speculative.TokensPerSecond, ["alpha"] = r.Speculative.Alpha, ["tau"] = r.Speculative.BlockEfficiency,
                    ["speedup"] = r.Speculative.Speedup, ["draft_step_ms"] = r.Speculative.DraftStepTime.TotalMilliseconds,
                    ["target_verify_ms"] = r.Speculative.TargetCallTime.TotalMilliseconds,
                },
                ["kernels"] = r.Kernels.Select(k => new Dictionary<string, object?>
                {
                    ["kernel"] = k.Kernel, ["us_per_step"] = k.MicrosecondsPerStep, ["bytes_per_step"] = double.IsNaN(k.BytesPerStep) ? null : k.BytesPerStep,
                    ["gbps"] = double.IsNaN(k.GBps) ? null : k.GBps, ["roofline_share"] = k.RooflineShare,
                }).ToList(),
            }).ToList(),
        };
        AtomicFile.WriteAllText(s.Output + ".json", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(s.Output + ".md", md.ToString());
        if (print) AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(s.Output)}.md[/] and .json");
    }

    private static int[] RandomTokens(int count, int vocab)
    {
        var random = new Random(Seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();
    }
}
