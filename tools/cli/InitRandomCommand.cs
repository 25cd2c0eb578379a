using System.CommandLine;
using DistillSpec.Models;
using DistillSpec.SafeTensors;

namespace DistillSpec.Cli;

/// <summary>Writes a randomly initialised model directory of any supported architecture (for tests and speed measurements).</summary>
internal static class InitRandomCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "directory to write", Required = true };
        var hidden = new Option<int>("--hidden") { Description = "hidden size (d_model)", DefaultValueFactory = _ => 64 };
        var layers = new Option<int>("--layers") { Description = "number of layers", DefaultValueFactory = _ => 2 };
        var heads = new Option<int>("--heads") { Description = "attention heads", DefaultValueFactory = _ => 4 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "key/value heads (GQA)", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int>("--intermediate") { Description = "MLP size (default 8/3 x hidden, rounded to 32)" };
        var vocab = new Option<int>("--vocab") { Description = "vocabulary size (>= 257)", DefaultValueFactory = _ => 257 };
        var context = new Option<int>("--context") { Description = "context length", DefaultValueFactory = _ => 1024 };
        var seed = new Option<int>("--seed", "-s") { Description = "initialisation seed", DefaultValueFactory = _ => 1 };
        var bf16 = new Option<bool>("--bf16") { Description = "store weights as BF16" };
        var architecture = new Option<string>("--architecture", "-a") { Description = "llama, qwen2, phi3 or gpt2 (GPT-2 ignores --kv-heads)", DefaultValueFactory = _ => "llama" };
        architecture.AcceptOnlyFromAmong([.. RandomModel.ArchitectureNames]);
        var command = new Command("init-random", "write a randomly initialised model directory")
        {
            output, architecture, hidden, layers, heads, kvHeads, intermediate, vocab, context, seed, bf16,
        };
        foreach (var o in new[] { hidden, layers, heads, kvHeads, intermediate, context }) CommonOptions.Check(o, n => n >= 1, $"{o.Name} must be at least 1");
        CommonOptions.Check(vocab, v => v >= 257, "--vocab must be at least 257 (256 bytes + <|endoftext|>)");
        command.SetAction(r => CliErrors.Guard(() =>
        {
            int h = r.GetValue(hidden);
            int f = r.GetResult(intermediate) is null ? (h * 8 / 3 + 31) / 32 * 32 : r.GetValue(intermediate);
            var config = RandomModel.ConfigFor(r.GetValue(architecture)!, h, r.GetValue(layers), r.GetValue(heads), r.GetValue(kvHeads), f,
                r.GetValue(vocab), r.GetValue(context));
            string dir = r.GetValue(output)!;
            RandomModel.Create(dir, config, r.GetValue(seed), r.GetValue(bf16) ? DType.BF16 : DType.F32);
            long parameters = ModelWeights.Allocate(config).Parameters().Sum(p => (long)p.Data.Length);
            Console.WriteLine($"wrote {dir}: {parameters / 1e6:F2}M parameters, hidden {h}, {config.Layers} layers, vocab {config.VocabSize}");
            return 0;
        }));
        return command;
    }
}
