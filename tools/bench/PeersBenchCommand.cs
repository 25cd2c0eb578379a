using System.CommandLine;
using System.Text.Json;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Our CPU engine against its peers on this machine, same thread counts: GEMM against OpenBLAS,
/// and prompt/decode speed and logits against llama.cpp (LLamaSharp) on one random model
/// exported to GGUF. Either peer missing is reported and skipped, not fatal.
/// </summary>
internal static class PeersBenchCommand
{
    private sealed record Settings(int[] Threads, int Hidden, int Layers, int Vocab, int PromptTokens, int DecodeTokens, int[] Rows, string Output);

    public static Command Create()
    {
        var threads = new Option<string>("--threads", "-t") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var hidden = new Option<int>("--hidden") { Description = "model hidden size (64-wide heads, half as many kv heads)", DefaultValueFactory = _ => 512 };
        var layers = new Option<int>("--layers") { Description = "model layers", DefaultValueFactory = _ => 8 };
        var vocab = new Option<int>("--vocab") { Description = "model vocabulary (ids past the 257 byte tokens are padding tokens in the GGUF)", DefaultValueFactory = _ => 8192 };
        var prompt = new Option<int>("--prompt-tokens") { Description = "prompt length (also the positions whose logits are compared)", DefaultValueFactory = _ => 128 };
        var decode = new Option<int>("--decode-tokens") { Description = "greedy tokens to decode", DefaultValueFactory = _ => 128 };
        var rows = new Option<string>("--gemm-rows") { Description = "comma-separated GEMM row counts M", DefaultValueFactory = _ => "5,64,512" };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-peers.json" };
        var command = new Command("peers", "GEMM vs OpenBLAS, and prompt/decode tokens/s and logits vs llama.cpp")
        {
            threads, hidden, layers, vocab, prompt, decode, rows, output,
        };
        command.SetAction(r => Run(new Settings(
            CommaList.Ints(r.GetValue(threads)!), r.GetValue(hidden), r.GetValue(layers), r.GetValue(vocab),
            r.GetValue(prompt), r.GetValue(decode), CommaList.Ints(r.GetValue(rows)!), r.GetValue(output)!)));
        return command;
    }

    // Figures from a shared machine mean little without how busy it was; spin-waiting thread pools suffer most.
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";


    private static int Run(Settings s)
    {
        int heads = s.Hidden / 64;
        var config = RandomModel.LlamaConfig(s.Hidden, s.Layers, heads, Math.Max(1, heads / 2), (s.Hidden * 8 / 3 + 31) / 32 * 32, s.Vocab,
            context: s.PromptTokens + s.DecodeTokens + 8);
        string directory = Path.Combine(Path.GetTempPath(), "dspec-peers-" + Guid.NewGuid().ToString("N"));
        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object>
            {
                ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["runtime"] = Environment.Version.ToString(),
                ["load_average_at_start"] = LoadAverage(),
            },
            ["model"] = new Dictionary<string, object>
            {
                ["hidden"] = config.HiddenSize, ["layers"] = config.Layers, ["heads"] = config.Heads, ["kv_heads"] = config.KvHeads,
                ["intermediate"] = config.IntermediateSize, ["vocab"] = config.VocabSize,
                ["prompt_tokens"] = s.PromptTokens, ["decode_tokens"] = s.DecodeTokens,
            },
            ["notes"] = new[]
            {
                "The random model's tokenizer has 257 tokens (256 bytes + <|endoftext|>); the GGUF export pads the vocabulary "
                    + "to the model's vocab with [PADn] tokens of type unused, as convert_hf_to_gguf.py does. Prompts are token ids, not text.",
                "Speed runs llama.cpp with its defaults (flash attention auto) and an f32 KV cache like ours; logits are compared "
                    + "without flash attention, whose CPU kernel rounds through f16, and once with it for reference.",
            },
        };
        var skipped = new List<string>();
        try
        {
            RandomModel.Create(directory, config, seed: 1);
            var weights = HfCheckpoint.Load(directory, config);
            // llama.cpp first: OpenBLAS's pool, once started, lives until the process ends.
            RunLlamaCpp(s, config, weights, directory, report, skipped);
            RunGemm(s, config, report, skipped);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        ((Dictionary<string, object>)report["machine"])["load_average_at_end"] = LoadAverage();
        AnsiConsole.MarkupLine($"load average (1, 5, 15 min) at end: {LoadAverage()} on {Environment.ProcessorCount} cores");
        report["skipped"] = skipped;
        foreach (string reason in skipped) AnsiConsole.MarkupLine($"[yellow]skipped:[/] {Markup.Escape(reason)}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.Output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(s.Output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(s.Output)}[/]");
        return 0;
    }

    private static void RunGemm(Settings s, ModelConfig c, Dictionary<string, object> report, List<string> skipped)
    {
        var blas = OpenBlas.TryLoad(out string problem);
        if (blas is null)
        {
            skipped.Add($"GEMM vs OpenBLAS: {problem}");
            return;
        }
        var weights = new[] { (c.HiddenSize, c.HiddenSize), (c.HiddenSize, c.IntermediateSize), (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, c.VocabSize) };
        var results = GemmPeers.Run(blas, s.Threads, s.Rows, weights);

        var table = new Table().Title($"GEMM y = x W^T, f32: ours vs OpenBLAS ({Markup.Escape(blas.Config)})");
        foreach (var column in new[] { "threads", "M", "K", "N", "ours GFLOP/s", "OpenBLAS GFLOP/s", "ours / OpenBLAS", "max |diff|" }) table.AddColumn(column);
        foreach (var g in results)
            table.AddRow($"{g.Threads}", $"{g.M}", $"{g.K}", $"{g.N}", $"{g.OursGflops:F1}", $"{g.OpenBlasGflops:F1}", $"{g.Ratio:F2}", $"{g.MaxAbsDiff:E1}");
        AnsiConsole.Write(table);
        report["openblas"] = blas.Config;
        report["gemm"] = results.Select(g => new Dictionary<string, object>
        {
            ["threads"] = g.Threads, ["m"] = g.M, ["k"] = g.K, ["n"] = g.N,
            ["ours_gflops"] = Math.Round(g.OursGflops, 2), ["openblas_gflops"] = Math.Round(g.OpenBlasGflops, 2),
            ["ratio"] = Math.Round(g.Ratio, 3), ["max_abs_diff"] = g.MaxAbsDiff,
        }).ToList();
    }

    private static void RunLlamaCpp(Settings s, ModelConfig c, ModelWeights weights, string directory,
        Dictionary<string, object> report, List<string> skipped)
    {
        string f32 = Path.Combine(directory, "model-f32.gguf"), f16 = Path.Combine(directory, "model-f16.gguf");
        GgufExporter.Build(directory, GgmlType.F32).Save(f32);
        GgufExporter.Build(directory, GgmlType.F16).Save(f16);
        var prompt = Enumerable.Range(0, s.PromptTokens).Select(i => (i * 7919 + 13) % c.VocabSize).ToArray();
        List<SpeedResult> speeds;
        List<LogitsResult> logits;
        try
        {
            LlamaCppModel.QuietLogs();
            speeds = s.Threads.Select(t => EndToEndPeers.Speed(c, weights, f32, t, prompt, s.DecodeTokens)).ToList();
            logits =
            [
                EndToEndPeers.Logits(c, weights, f32, "f32", prompt, s.Threads[0], flashAttention: false),
                EndToEndPeers.Logits(c, weights, f16, "f16", prompt, s.Threads[0], flashAttention: false),
                EndToEndPeers.Logits(c, weights, f32, "f32, flash attention", prompt, s.Threads[0], flashAttention: true),
            ];
        }
        // llama.cpp is an optional peer: whatever stops it (native library, GGUF rejected) is reported, not fatal.
        catch (Exception e)
        {
            var log = LlamaCppModel.LogProblems;
            skipped.Add($"llama.cpp via LLamaSharp: {e.GetType().Name}: {e.Message}" + (log.Count > 0 ? $" (llama.cpp log: {string.Join(" / ", log)})" : ""));
            return;
        }

        var speed = new Table().Title($"End to end, {s.PromptTokens}-token prompt, {s.DecodeTokens} greedy tokens: ours vs llama.cpp (F32 GGUF, its default settings, f32 KV cache)");
        foreach (var column in new[] { "threads", "ours prompt tok/s", "llama.cpp prompt tok/s", "ratio", "ours decode tok/s", "llama.cpp decode tok/s", "ratio", "greedy agree" })
            speed.AddColumn(column);
        foreach (var r in speeds)
            speed.AddRow($"{r.Threads}", $"{r.OursPromptTps:F0}", $"{r.LlamaPromptTps:F0}", $"{r.PromptRatio:F2}",
                $"{r.OursDecodeTps:F1}", $"{r.LlamaDecodeTps:F1}", $"{r.DecodeRatio:F2}", $"{r.GreedyAgreement}/{s.DecodeTokens}");
        AnsiConsole.Write(speed);

        var check = new Table().Title("Logits, every prompt position: ours (safetensors f32) vs llama.cpp (our GGUF export)");
        foreach (var column in new[] { "GGUF", "positions", "max |Δlogit|", "max |logit|", "argmax agree" }) check.AddColumn(column);
        foreach (var l in logits) check.AddRow(l.Gguf, $"{l.Positions}", $"{l.MaxAbsDiff:E2}", $"{l.MaxAbsLogit:F3}", $"{l.ArgmaxAgreement}/{l.Positions}");
        AnsiConsole.Write(check);

        report["llama_cpp"] = new Dictionary<string, object>
        {
            ["library"] = "LLamaSharp 0.30.0 + LLamaSharp.Backend.Cpu",
            ["system_info"] = LlamaCppModel.SystemInfo(),
            ["log_warnings"] = LlamaCppModel.LogProblems,
        };
        report["end_to_end"] = speeds.Select(r => new Dictionary<string, object>
        {
            ["threads"] = r.Threads,
            ["ours_prompt_tokens_per_s"] = Math.Round(r.OursPromptTps, 1), ["llamacpp_prompt_tokens_per_s"] = Math.Round(r.LlamaPromptTps, 1),
            ["prompt_ratio"] = Math.Round(r.PromptRatio, 3),
            ["ours_decode_tokens_per_s"] = Math.Round(r.OursDecodeTps, 1), ["llamacpp_decode_tokens_per_s"] = Math.Round(r.LlamaDecodeTps, 1),
            ["decode_ratio"] = Math.Round(r.DecodeRatio, 3), ["greedy_tokens_agreeing"] = r.GreedyAgreement,
        }).ToList();
        report["logits"] = logits.Select(l => new Dictionary<string, object>
        {
            ["gguf"] = l.Gguf, ["positions"] = l.Positions, ["max_abs_diff"] = l.MaxAbsDiff,
            ["max_abs_logit"] = l.MaxAbsLogit, ["argmax_agreement"] = l.ArgmaxAgreement,
        }).ToList();
    }
}
