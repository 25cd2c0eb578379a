using System.CommandLine;
using System.Text.Json;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Every architecture exported to GGUF, loaded from that one file by llama.cpp (LLamaSharp) and by us,
/// and the logits of every prompt position compared. With random weights (the default) the tiny
/// model's logits are nearly flat, so where 8-bit activations round differently an argmax can flip
/// between near-tied tokens; --model runs a trained checkpoint on real text instead, written in each
/// Llama-family architecture's layout. Each disagreement is reported with llama.cpp's own gap
/// between its top two tokens there, against our |difference| at that position.
/// </summary>
internal static class GgufLogitsBenchCommand
{
    private sealed record Settings(string[] Architectures, string[] Types, int Hidden, int Layers, int Heads, int KvHeads, int Intermediate,
        int Vocab, int Positions, int Threads, string Output, string? Model, string PromptFile);

    public static Command Create()
    {
        var architectures = new Option<string>("--architectures") { Description = "comma-separated: llama, qwen2, phi3, gpt2", DefaultValueFactory = _ => "llama,qwen2,phi3,gpt2" };
        var types = new Option<string>("--types") { Description = "comma-separated GGUF matrix types: f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k, q6_k", DefaultValueFactory = _ => "f32,f16,q8_0,q4_0,q5_0,q5_1" };
        var hidden = new Option<int>("--hidden") { Description = "hidden size (SmolLM2-135M: 576)", DefaultValueFactory = _ => 128 };
        var layers = new Option<int>("--layers") { Description = "layers (SmolLM2-135M: 30)", DefaultValueFactory = _ => 2 };
        var heads = new Option<int>("--heads") { Description = "attention heads (SmolLM2-135M: 9)", DefaultValueFactory = _ => 4 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "key/value heads (SmolLM2-135M: 3); GPT-2 uses --heads", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int>("--intermediate") { Description = "MLP size (SmolLM2-135M: 1536)", DefaultValueFactory = _ => 256 };
        var vocab = new Option<int>("--vocab") { Description = "vocabulary (SmolLM2-135M: 49152)", DefaultValueFactory = _ => 1024 };
        var positions = new Option<int>("--positions") { Description = "prompt positions whose logits are compared", DefaultValueFactory = _ => 128 };
        var threads = new Option<int>("--threads", "-t") { Description = "threads for both engines", DefaultValueFactory = _ => 2 };
        var model = new Option<string?>("--model", "-m")
        {
            Description = "a trained Llama-family model directory (e.g. weights/target) written in the layout of each of llama, qwen2 (zero q/k/v biases) " +
                          "and phi3 (fused projections) instead of random weights; its prompt is real text (--prompt-file). gpt2 has no such mapping and is skipped",
        };
        var promptFile = new Option<string>("--prompt-file") { Description = "with --model: JSON lines whose prompt and reference texts, joined, give the positions", DefaultValueFactory = _ => "data/prompts/code.jsonl" };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-gguf-logits.json" };
        var command = new Command("gguf-logits", "each architecture's GGUF export: our logits vs llama.cpp's on the same file")
        {
            architectures, types, hidden, layers, heads, kvHeads, intermediate, vocab, positions, threads, model, promptFile, output,
        };
        command.SetAction(r => Run(new Settings(
            r.GetValue(architectures)!.Split(','), r.GetValue(types)!.Split(','), r.GetValue(hidden), r.GetValue(layers), r.GetValue(heads),
            r.GetValue(kvHeads), r.GetValue(intermediate), r.GetValue(vocab), r.GetValue(positions), r.GetValue(threads), r.GetValue(output)!,
            r.GetValue(model), r.GetValue(promptFile)!)));
        return command;
    }

    // The largest |a - b| over all logits, and the median over positions of each position's largest.
    private static (double Max, double Median) PositionDiffs(float[] a, float[] b, int positions)
    {
        int v = a.Length / positions;
        var perPosition = Enumerable.Range(0, positions).Select(p => EndToEndPeers.MaxAbsDiff(a.AsSpan(p * v, v), b.AsSpan(p * v, v))).ToArray();
        return (perPosition.Max(), Median.Of(perPosition));
    }

    private static GgmlType ParseType(string type) => GgmlTypes.ParseName(type)
        ?? throw new ArgumentException($"unknown GGUF type '{type}'; expected f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k (K-quants need --hidden and --intermediate multiples of 256)");

    private static int Run(Settings s)
    {
        string directory = Path.Combine(Path.GetTempPath(), "dspec-gguf-logits-" + Guid.NewGuid().ToString("N"));
        var rows = new List<Dictionary<string, object>>();
        var skipped = new List<string>();
        var table = new Table().Title($"Logits over {s.Positions} positions: us vs llama.cpp, both loading our GGUF export ({(s.Model is null ? "random weights" : $"{s.Model}'s weights, text of {s.PromptFile}")}, " +
            $"{s.Threads} threads, no flash attention)");
        foreach (var column in new[] { "architecture", "GGUF", "max |Δlogit|", "max |logit|", "relative", "argmax agree", "vs f32: ours / llama.cpp", "median position |Δ|", "llama.cpp vs its first layout: argmax, max / median |Δ|", "disagreements: llama.cpp top-2 gap / our |Δ|" })
            table.AddColumn(column);
        // With a trained model every layout computes the same function from the same quantized blocks (ours
        // gives bit-identical logits in each), so llama.cpp's argmaxes in each layout against its first one
        // show how far its own results move with the layout: the floor an agreement figure can reach.
        var firstLayout = new Dictionary<string, LogitsResult>();
        LlamaCppModel.QuietLogs();
        try
        {
            foreach (string architecture in s.Architectures)
            {
                // Not named for the architecture: llama.cpp treats a model whose general.name (our
                // directory's name) contains "phi3" as Phi-3's own and looks up its "</s>" token,
                // which a byte-level vocabulary does not have.
                string model = Path.Combine(directory, $"model-{Array.IndexOf(s.Architectures, architecture)}");
                int[] prompt;
                if (s.Model is null)
                {
                    var config = RandomModel.ConfigFor(architecture, s.Hidden, s.Layers, s.Heads, s.KvHeads, s.Intermediate, s.Vocab, context: s.Positions + 8, tied: false);
                    RandomModel.Create(model, config, seed: 1);
                    prompt = Enumerable.Range(0, s.Positions).Select(i => (i * 7919 + 13) % config.VocabSize).ToArray();
                }
                else if (TrainedModelLayouts.TryWrite(s.Model, architecture, model))
                    prompt = TrainedModelLayouts.PromptTokens(model, s.PromptFile, s.Positions);
                else
                {
                    skipped.Add($"{architecture}: a Llama-family checkpoint has no {architecture} layout (LayerNorm, GELU, learned positions)");
                    continue;
                }
                int[] f32Argmax;
                using (var backend = new DistillSpec.Backends.SimdBackend(s.Threads))
                using (var f32 = LanguageModel.Load(model, backend))
                    f32Argmax = EndToEndPeers.Argmaxes(f32.Transformer, prompt);
                foreach (string type in s.Types)
                {
                    string gguf = Path.Combine(directory, $"{architecture}-{type}.gguf");
                    GgufExporter.Build(model, ParseType(type)).Save(gguf);
                    try
                    {
                        // Ours loads the file llama.cpp reads as a user's run would: quantized matrices kept as stored
                        // and multiplied with 8-bit activations, as llama.cpp does.
                        using var backend = new DistillSpec.Backends.SimdBackend(s.Threads);
                        using var loaded = LanguageModel.Load(gguf, backend);
                        var l = EndToEndPeers.Logits(loaded.Transformer, gguf, type, prompt, s.Threads, flashAttention: false, f32Argmax);
                        double relative = l.MaxAbsDiff / l.MaxAbsLogit;
                        int? selfAgreement = null;
                        (double Max, double Median)? selfDiff = null;
                        if (s.Model is not null && !firstLayout.TryAdd(type, l))
                        {
                            selfAgreement = l.LlamaCppArgmax.Zip(firstLayout[type].LlamaCppArgmax).Count(pair => pair.First == pair.Second);
                            selfDiff = PositionDiffs(l.LlamaCppLogits, firstLayout[type].LlamaCppLogits, l.Positions);
                        }
                        table.AddRow(architecture, type, $"{l.MaxAbsDiff:E2}", $"{l.MaxAbsLogit:F3}", $"{relative:E2}", $"{l.ArgmaxAgreement}/{l.Positions}",
                            $"{l.AgreementWithF32!.Value.Ours} / {l.AgreementWithF32.Value.LlamaCpp}",
                            $"{l.MedianPositionDiff:E1}",
                            selfAgreement is int self ? $"{self}/{l.Positions}, {selfDiff!.Value.Max:E1} / {selfDiff.Value.Median:E1}" : "-", string.Join(", ", l.Disagreements.Select(d => $"{d.Gap:E1} / {d.Diff:E1}")));
                        rows.Add(new()
                        {
                            ["architecture"] = architecture, ["type"] = type, ["positions"] = l.Positions, ["max_abs_diff"] = l.MaxAbsDiff,
                            ["max_abs_logit"] = l.MaxAbsLogit, ["relative"] = relative, ["argmax_agreement"] = l.ArgmaxAgreement,
                            ["f32_argmax_agreement_ours"] = l.AgreementWithF32!.Value.Ours, ["f32_argmax_agreement_llama_cpp"] = l.AgreementWithF32.Value.LlamaCpp,
                            ["median_position_max_abs_diff"] = l.MedianPositionDiff,
                            ["llama_cpp_argmax_agreement_with_first_layout"] = (object?)selfAgreement ?? "first layout",
                            ["llama_cpp_max_abs_diff_with_first_layout"] = (object?)selfDiff?.Max ?? "first layout",
                            ["llama_cpp_median_position_max_abs_diff_with_first_layout"] = (object?)selfDiff?.Median ?? "first layout",
                            ["disagreements"] = l.Disagreements.Select(d => new Dictionary<string, object> { ["position"] = d.Position, ["top2_gap"] = d.Gap, ["max_abs_diff"] = d.Diff }).ToList(),
                        });
                    }
                    // llama.cpp is a peer: a file it refuses is reported with its log, and the others still run.
                    catch (Exception e)
                    {
                        var log = LlamaCppModel.LogProblems;
                        skipped.Add($"{architecture} {type}: {e.GetType().Name}: {e.Message}" + (log.Count > 0 ? $" (llama.cpp log: {string.Join(" / ", log.TakeLast(3))})" : ""));
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        AnsiConsole.Write(table);
        foreach (string reason in skipped) AnsiConsole.MarkupLine($"[yellow]skipped:[/] {Markup.Escape(reason)}");
        var report = new Dictionary<string, object>
        {
            ["model"] = s.Model is not null
                ? new Dictionary<string, object> { ["trained"] = s.Model, ["prompt_file"] = s.PromptFile, ["positions"] = s.Positions, ["threads"] = s.Threads }
                : new Dictionary<string, object>
            {
                ["hidden"] = s.Hidden, ["layers"] = s.Layers, ["heads"] = s.Heads, ["kv_heads"] = s.KvHeads, ["intermediate"] = s.Intermediate,
                ["vocab"] = s.Vocab, ["positions"] = s.Positions, ["threads"] = s.Threads,
            },
            ["llama_cpp"] = LlamaCppModel.SystemInfo(),
            ["logits"] = rows,
            ["skipped"] = skipped,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.Output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(s.Output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(s.Output)}[/]");
        return 0;
    }
}
