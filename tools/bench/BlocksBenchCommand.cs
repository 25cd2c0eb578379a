using System.CommandLine;
using System.Text.Json;
using DistillSpec.Backends;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// The block formats at real model shapes, random weights: prompt and decode tokens/s, and one
/// verification pass (gamma + 1 rows) against one decode step, the ratio speculative decoding
/// pays per round, per format and thread count. Shapes: Qwen2.5-0.5B (hidden 896, 14/2 heads,
/// intermediate 4864, vocab 151936, 24 layers) and SmolLM2-135M (576, 9/3, 1536, 49152, 30);
/// --layers and --vocab shrink them for a quick run, keeping the layer shape. Each pass's multiply-adds per second
/// are set against the core's int8 peak (Int8Peak) times the threads.
/// </summary>
internal static class BlocksBenchCommand
{
    private sealed record Shape(string Name, int Hidden, int Heads, int KvHeads, int Intermediate, int Vocab, int Layers);

    private static readonly Shape[] Shapes =
    [
        new("qwen2.5-0.5b", 896, 14, 2, 4864, 151936, 24),
        new("smollm2-135m", 576, 9, 3, 1536, 49152, 30),
    ];

    public static Command Create()
    {
        var shapes = new Option<string>("--shapes") { Description = "comma-separated: qwen2.5-0.5b, smollm2-135m", DefaultValueFactory = _ => "qwen2.5-0.5b,smollm2-135m" };
        var formats = new Option<string>("--formats") { Description = "comma-separated weight formats", DefaultValueFactory = _ => "f32,q8_0,q4_0,q5_0,q5_1,q4_k,q5_k,q6_k" };
        var threads = new Option<string>("--threads", "-t") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var layers = new Option<int>("--layers") { Description = "layers (0: the model's own count)", DefaultValueFactory = _ => 0 };
        var vocab = new Option<int>("--vocab") { Description = "vocabulary (0: the model's own)", DefaultValueFactory = _ => 0 };
        var promptLength = new Option<int>("--prompt-tokens") { Description = "prompt length for prefill", DefaultValueFactory = _ => 128 };
        var decode = new Option<int>("--decode-tokens") { Description = "tokens to decode", DefaultValueFactory = _ => 64 };
        var verify = new Option<int>("--verify-tokens") { Description = "positions in one verification pass (gamma + 1)", DefaultValueFactory = _ => 5 };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-blocks.json" };
        var command = new Command("blocks", "block formats (q8_0, q4_0, q4_k, q5_k, q6_k) at Qwen2.5-0.5B and SmolLM2-135M shapes: decode tok/s and verification cost")
        {
            shapes, formats, threads, layers, vocab, promptLength, decode, verify, output,
        };
        command.SetAction(r => Run(
            r.GetValue(shapes)!.Split(',').Select(n => Shapes.FirstOrDefault(s => s.Name == n.Trim())
                ?? throw new ArgumentException($"unknown shape '{n}'; expected {string.Join(" or ", Shapes.Select(s => s.Name))}")).ToArray(),
            r.GetValue(formats)!.Split(',').Select(f => WeightFormats.Parse(f.Trim())).ToArray(),
            CommaList.Ints(r.GetValue(threads)!), r.GetValue(layers), r.GetValue(vocab),
            r.GetValue(promptLength), r.GetValue(decode), r.GetValue(verify), r.GetValue(output)!));
        return command;
    }

    private static int Run(Shape[] shapes, WeightFormat[] formats, int[] threadCounts, int layers, int vocab, int promptLength, int decodeTokens,
        int verifyTokens, string output)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var rows = new List<Dictionary<string, object>>();
        double peak = Int8Peak.MultiplyAddsPerSecond();
        AnsiConsole.MarkupLine($"int8 multiply-add peak (vpmaddubsw and add, registers only): {peak / 1e9:F0} G/s per thread");
        foreach (var shape in shapes)
        {
            int l = layers > 0 ? layers : shape.Layers, v = vocab > 0 ? vocab : shape.Vocab;
            var config = RandomModel.LlamaConfig(shape.Hidden, l, shape.Heads, shape.KvHeads, shape.Intermediate, v,
                context: promptLength + decodeTokens + verifyTokens + 8);
            var weights = ModelWeights.Random(config, seed: 1);
            var table = new Table().Title($"{shape.Name} shape: hidden {shape.Hidden}, intermediate {shape.Intermediate}, {l} layers, vocab {v}; int8 dot path {InterleavedGemm.Describe()}");
            foreach (var column in new[] { "threads", "weights", "prompt tok/s", "decode tok/s", $"verify {verifyTokens} ms", "verify / step", "verify G mul-add/s", "of peak" })
                table.AddColumn(column);
            foreach (int t in threadCounts)
            {
                using var backend = new SimdBackend(t);
                foreach (var format in formats)
                {
                    using var model = new Transformer(config, weights, backend, format);
                    var (promptTps, decodeTps) = CpuBenchCommand.ModelTokensPerSecond(model, promptLength, decodeTokens);
                    var (stepMs, verifyMs) = CpuBenchCommand.StepAndVerifyMilliseconds(model, promptLength, verifyTokens);
                    double ratio = verifyMs / stepMs;
                    // Every matrix once per position: the multiply-adds a verification pass cannot avoid.
                    double rate = (double)verifyTokens * config.MatrixParameters / (verifyMs / 1e3), ofPeak = rate / (peak * t);
                    rows.Add(new()
                    {
                        ["shape"] = shape.Name, ["layers"] = l, ["vocab"] = v, ["threads"] = t, ["weights"] = format.ToString(),
                        ["prompt_tokens_per_s"] = Math.Round(promptTps, 1), ["decode_tokens_per_s"] = Math.Round(decodeTps, 1),
                        [$"verify_{verifyTokens}_tokens_ms"] = Math.Round(verifyMs, 2), ["verify_over_decode_step"] = Math.Round(ratio, 2),
                        ["verify_multiply_adds_per_s"] = Math.Round(rate / 1e9, 1), ["verify_fraction_of_int8_peak"] = Math.Round(ofPeak, 3),
                    });
                    table.AddRow(t.ToString(), format.ToString(), promptTps.ToString("F1"), decodeTps.ToString("F1"), verifyMs.ToString("F2"), ratio.ToString("F2"),
                        (rate / 1e9).ToString("F0"), ofPeak.ToString("P0"));
                }
            }
            AnsiConsole.Write(table);
        }
        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object> { ["cores"] = Environment.ProcessorCount, ["runtime"] = Environment.Version.ToString(), ["int8_dot_path"] = InterleavedGemm.Describe(),
                ["int8_multiply_add_peak_per_thread_g"] = Math.Round(peak / 1e9, 1) },
            ["prompt_tokens"] = promptLength, ["decode_tokens"] = decodeTokens,
            ["note"] = "random weights; K-quant matrices whose rows are not whole 256-weight super-blocks fall back to Q5_0 (Q4_K), Q5_1 (Q5_K) or Q8_0 (Q6_K)",
            ["results"] = rows,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(output)}[/]");
        return 0;
    }
}
