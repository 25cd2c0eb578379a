using System.CommandLine;
using System.Text.Json;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Every architecture exported to GGUF with random weights, loaded from that one file by llama.cpp
/// (LLamaSharp) and by us, and the logits of every prompt position compared.
/// </summary>
internal static class GgufLogitsBenchCommand
{
    private sealed record Settings(string[] Architectures, string[] Types, int Hidden, int Layers, int Heads, int KvHeads, int Intermediate,
        int Vocab, int Positions, int Threads, string Output);

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
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-gguf-logits.json" };
        var command = new Command("gguf-logits", "each architecture's GGUF export: our logits vs llama.cpp's on the same file")
        {
            architectures, types, hidden, layers, heads, kvHeads, intermediate, vocab, positions, threads, output,
        };
        command.SetAction(r => Run(new Settings(
            r.GetValue(architectures)!.Split(','), r.GetValue(types)!.Split(','), r.GetValue(hidden), r.GetValue(layers), r.GetValue(heads),
            r.GetValue(kvHeads), r.GetValue(intermediate), r.GetValue(vocab), r.GetValue(positions), r.GetValue(threads), r.GetValue(output)!)));
        return command;
    }

    private static GgmlType ParseType(string type) => GgmlTypes.ParseName(type)
        ?? throw new ArgumentException($"unknown GGUF type '{type}'; expected f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k (K-quants need --hidden and --intermediate multiples of 256)");

    private static int Run(Settings s)
    {
        string directory = Path.Combine(Path.GetTempPath(), "dspec-gguf-logits-" + Guid.NewGuid().ToString("N"));
        var rows = new List<Dictionary<string, object>>();
        var skipped = new List<string>();
        var table = new Table().Title($"Logits over {s.Positions} positions: us vs llama.cpp, both loading our GGUF export (random weights, {s.Threads} threads, no flash attention)");
        foreach (var column in new[] { "architecture", "GGUF", "max |Δlogit|", "max |logit|", "relative", "argmax agree" }) table.AddColumn(column);
        LlamaCppModel.QuietLogs();
        try
        {
            foreach (string architecture in s.Architectures)
            {
                var config = RandomModel.ConfigFor(architecture, s.Hidden, s.Layers, s.Heads, s.KvHeads, s.Intermediate, s.Vocab, context: s.Positions + 8, tied: false);
                // Not named for the architecture: llama.cpp treats a model whose general.name (our
                // directory's name) contains "phi3" as Phi-3's own and looks up its "</s>" token,
                // which the random model's byte-level vocabulary does not have.
                string model = Path.Combine(directory, $"random-{Array.IndexOf(s.Architectures, architecture)}");
                RandomModel.Create(model, config, seed: 1);
                var prompt = Enumerable.Range(0, s.Positions).Select(i => (i * 7919 + 13) % config.VocabSize).ToArray();
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
                        var l = EndToEndPeers.Logits(loaded.Transformer, gguf, type, prompt, s.Threads, flashAttention: false);
                        double relative = l.MaxAbsDiff / l.MaxAbsLogit;
                        table.AddRow(architecture, type, $"{l.MaxAbsDiff:E2}", $"{l.MaxAbsLogit:F3}", $"{relative:E2}", $"{l.ArgmaxAgreement}/{l.Positions}");
                        rows.Add(new()
                        {
                            ["architecture"] = architecture, ["type"] = type, ["positions"] = l.Positions, ["max_abs_diff"] = l.MaxAbsDiff,
                            ["max_abs_logit"] = l.MaxAbsLogit, ["relative"] = relative, ["argmax_agreement"] = l.ArgmaxAgreement,
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
            ["model"] = new Dictionary<string, object>
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
