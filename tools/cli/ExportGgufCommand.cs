using System.CommandLine;
using DistillSpec.Formats.Gguf;

namespace DistillSpec.Cli;

/// <summary>Writes a model directory of any supported architecture and its byte-level BPE tokenizer as a GGUF file for llama.cpp.</summary>
internal static class ExportGgufCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model directory (Hugging Face layout)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "GGUF file to write", Required = true };
        var type = new Option<string>("--type") { Description = "type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k (norms and biases stay f32; a K-quant falls back on rows that are not whole 256-value super-blocks, as llama.cpp's quantizer does: q4_k to q5_0, q5_k to q5_1, q6_k to q8_0)", DefaultValueFactory = _ => "f32" };
        type.AcceptOnlyFromAmong("f32", "f16", "bf16", "q8_0", "q4_0", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k");
        var pre = new Option<string?>("--pre") { Description = "llama.cpp pre-tokenizer name (default: the one whose regex the tokenizer uses: gpt-2, llama-bpe or qwen2)" };
        var command = new Command("export-gguf", "write a model (llama, mistral, qwen2, phi3, gpt2) as GGUF that llama.cpp loads") { model, output, type, pre };
        command.SetAction(r => CliErrors.Guard(() =>
        {
            var matrixType = GgmlTypes.ParseName(r.GetValue(type)!)!.Value;
            string path = r.GetValue(output)!;
            var gguf = GgufExporter.Build(r.GetValue(model)!, matrixType, r.GetValue(pre));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            gguf.Save(path);
            Console.WriteLine($"wrote {path}: {gguf.TensorCount} tensors, {gguf.MetadataCount} metadata keys, " +
                              $"{matrixType} matrices, {new FileInfo(path).Length / 1e6:F1} MB");
            return 0;
        }));
        return command;
    }
}
