using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Training;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// CPU figures for the foundation: matrix-vector throughput against the machine's read
/// bandwidth measured in the same run, and per thread count: prompt/decode tokens/s of a model,
/// one verification pass (gamma + 1 positions, as speculative decoding's target call) against
/// one decode step, and training tokens/s (forward, loss and backward).
/// </summary>
internal static class CpuBenchCommand
{
    public static Command Create()
    {
        var threads = new Option<string>("--threads", "-t") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var hidden = new Option<int>("--hidden") { Description = "model hidden size", DefaultValueFactory = _ => 512 };
        var layers = new Option<int>("--layers") { Description = "model layers", DefaultValueFactory = _ => 8 };
        var vocab = new Option<int>("--vocab") { Description = "model vocabulary", DefaultValueFactory = _ => 8192 };
        var promptLength = new Option<int>("--prompt-tokens") { Description = "prompt length for prefill", DefaultValueFactory = _ => 128 };
        var decode = new Option<int>("--decode-tokens") { Description = "tokens to decode", DefaultValueFactory = _ => 128 };
        var matrix = new Option<int>("--matvec-size") { Description = "square matrix side for matrix-vector (f32; 256 MB of such matrices are cycled)", DefaultValueFactory = _ => 4096 };
        var verify = new Option<int>("--verify-tokens") { Description = "positions in one verification pass (gamma + 1)", DefaultValueFactory = _ => 5 };
        var model = new Option<string?>("--model", "-m") { Description = "a model directory or GGUF file to measure instead of the random model (then no training row)" };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-cpu.json" };
        var command = new Command("cpu", "matrix-vector GB/s vs read bandwidth; model prompt/decode tokens/s, verification and training per thread count")
        {
            threads, hidden, layers, vocab, promptLength, decode, matrix, verify, model, output,
        };
        command.SetAction(r => Run(
            CommaList.Ints(r.GetValue(threads)!), r.GetValue(hidden), r.GetValue(layers),
            r.GetValue(vocab), r.GetValue(promptLength), r.GetValue(decode), r.GetValue(matrix), r.GetValue(verify), r.GetValue(model), r.GetValue(output)!));
        return command;
    }

    private static int Run(int[] threadCounts, int hidden, int layers, int vocab, int promptLength, int decodeTokens, int side, int verifyTokens,
        string? modelPath, string output)
    {
        var config = RandomModel.LlamaConfig(hidden, layers, hidden / 64, hidden / 64, hidden * 8 / 3 / 32 * 32, vocab,
            context: promptLength + decodeTokens + 8);
        var weights = modelPath is null ? ModelWeights.Random(config, seed: 1) : null;
        long parameters = weights?.Parameters().Sum(p => (long)p.Data.Length) ?? 0;
        // A real model: loaded per backend and format, as users load it.
        Transformer Load(SimdBackend backend, WeightFormat format)
        {
            if (weights is not null) return new Transformer(config, weights, backend, format);
            var loaded = LanguageModel.Load(modelPath!, backend, format);
            (config, parameters) = (loaded.Config, loaded.Config.MatrixParameters);
            return loaded.Transformer;
        }
        var stream = new float[64 << 20]; // 256 MB, far past the last-level cache
        new Random(2).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(stream.AsSpan()));
        for (int i = 0; i < stream.Length; i++) stream[i] = (stream[i] % 1f) is var v && float.IsFinite(v) ? v : 0f;

        var rows = new List<Dictionary<string, object>>();
        foreach (int t in threadCounts)
        {
            using var backend = new SimdBackend(t);
            double bandwidth = MemoryBandwidth.ReadGBps(stream, t);
            double matvec = MatVecGBps(backend, side);
            double f32Decode = 0;
            foreach (var format in new[] { WeightFormat.F32, WeightFormat.BF16, WeightFormat.Q8_0 })
            {
                using var model = Load(backend, format);
                var (promptTps, decodeTps) = ModelTokensPerSecond(model, promptLength, decodeTokens);
                var (stepMs, verifyMs) = StepAndVerifyMilliseconds(model, promptLength, verifyTokens);
                if (format == WeightFormat.F32) f32Decode = decodeTps;
                rows.Add(new()
                {
                    ["threads"] = t,
                    ["read_bandwidth_gbps"] = Math.Round(bandwidth, 2),
                    ["matvec_gbps"] = Math.Round(matvec, 2),
                    ["matvec_fraction_of_bandwidth"] = Math.Round(matvec / bandwidth, 3),
                    ["weights"] = format.ToString(),
                    ["prompt_tokens_per_s"] = Math.Round(promptTps, 1),
                    ["decode_tokens_per_s"] = Math.Round(decodeTps, 1),
                    ["decode_speedup_vs_f32"] = Math.Round(decodeTps / f32Decode, 2),
                    ["step_ms"] = Math.Round(stepMs, 3),
                    [$"verify_{verifyTokens}_tokens_ms"] = Math.Round(verifyMs, 3),
                    ["verify_over_decode_step"] = Math.Round(verifyMs / stepMs, 2),
                });
            }
        }
        var training = weights is null ? [] : threadCounts.Select(t => (Threads: t, TokensPerSecond: TrainingTokensPerSecond(weights, t))).ToList();

        // Redirected output has no terminal width; keep table rows on one line for files and logs.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        string described = modelPath ?? $"{hidden}-wide, {layers} layers, vocab {vocab}";
        var table = new Table().Title($"CPU: {described} ({parameters / 1e6:F1}M matrix params); matvec {side}x{side} f32");
        foreach (var column in new[] { "threads", "read GB/s", "matvec GB/s", "matvec / read", "weights", "prompt tok/s", "decode tok/s", "decode vs f32",
            "step ms", $"verify {verifyTokens} tok ms", "verify / step" })
            table.AddColumn(column);
        foreach (var row in rows) table.AddRow(row.Values.Select(v => v.ToString()!).ToArray());
        AnsiConsole.Write(table);
        var trainingTable = new Table().Title($"Training step (forward, cross-entropy, backward), f32, batch {TrainBatch} x {TrainSeqLen} tokens");
        trainingTable.AddColumn("threads").AddColumn("tokens/s").AddColumn("vs 1st");
        foreach (var (t, tps) in training) trainingTable.AddRow(t.ToString(), tps.ToString("F0"), (tps / training[0].TokensPerSecond).ToString("F2") + "x");
        if (training.Count > 0) AnsiConsole.Write(trainingTable);

        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object> { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["runtime"] = Environment.Version.ToString() },
            ["model"] = new Dictionary<string, object>
            {
                ["path"] = modelPath ?? "random", ["hidden"] = config.HiddenSize, ["layers"] = config.Layers, ["vocab"] = config.VocabSize,
                ["parameters"] = parameters, ["prompt_tokens"] = promptLength, ["decode_tokens"] = decodeTokens,
            },
            ["matvec_shape"] = new[] { side, side },
            ["results"] = rows,
            ["training"] = training.Select(x => new Dictionary<string, object>
            {
                ["threads"] = x.Threads, ["batch"] = TrainBatch, ["seq_len"] = TrainSeqLen, ["tokens_per_s"] = Math.Round(x.TokensPerSecond, 1),
            }).ToList(),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(output)}[/]");
        return 0;
    }

    /// <summary>
    /// Weights streamed per second by y = W x with W (side, side) f32, cycling through enough
    /// matrices (256 MB) that none is still in the last-level cache when its turn comes again,
    /// as in decoding, where every layer's weights are read once per token. Best of several passes.
    /// </summary>
    private static double MatVecGBps(IBackend backend, int side)
    {
        var random = new Random(3);
        int count = Math.Max(2, (int)(256L * 1024 * 1024 / ((long)side * side * 4)));
        var weights = Enumerable.Range(0, count)
            .Select(_ => backend.Upload(Enumerable.Range(0, side * side).Select(_ => (float)random.NextDouble() - 0.5f).ToArray())).ToList();
        var x = backend.Upload(Enumerable.Range(0, side).Select(_ => (float)random.NextDouble()).ToArray());
        var y = backend.Allocate(side);
        double best = double.MaxValue;
        for (int pass = 0; pass < 5; pass++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var w in weights) backend.MatMul(x, 1, side, w, side, null, y);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        foreach (var w in weights) w.Dispose();
        return (double)count * side * side * 4 / best / 1e9;
    }

    private static int[] Prompt(int length, int vocab) => Enumerable.Range(0, length).Select(i => (i * 7919) % vocab).ToArray();

    internal static (double Prompt, double Decode) ModelTokensPerSecond(Transformer model, int promptLength, int decodeTokens)
    {
        var prompt = Prompt(promptLength, model.VocabSize);
        var generator = new Generator(model, SamplingSettings.GreedyDecoding, seed: 1);
        // Best of three: the first run also pays for JIT tiering.
        var runs = Enumerable.Range(0, 3).Select(_ => generator.Generate(prompt, decodeTokens)).ToList();
        return (runs.Max(r => r.PromptTokensPerSecond), runs.Max(r => r.DecodeTokensPerSecond));
    }

    /// <summary>
    /// One target call of speculative decoding (`tokens` positions after a cached prompt, logits
    /// for all of them) and one decode step (a single position) at the same place, alternated
    /// (EndToEndPeers.VerifyCost). Medians of 40 of each.
    /// </summary>
    internal static (double StepMs, double VerifyMs) StepAndVerifyMilliseconds(Transformer model, int promptLength, int tokens)
    {
        using var cache = model.CreateCache(promptLength + tokens);
        return EndToEndPeers.VerifyCost(new EndToEndPeers.Ours(model, cache), Prompt(promptLength, model.VocabSize), tokens, rounds: 42);
    }

    private const int TrainBatch = 4, TrainSeqLen = 128;

    private static double TrainingTokensPerSecond(ModelWeights weights, int threads) =>
        TrainBatch * TrainSeqLen / TrainingStepTiming.BestSeconds(weights, TrainBatch, TrainSeqLen, threads);
}
