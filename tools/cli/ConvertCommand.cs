using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSpec.SafeTensors;

namespace DistillSpec.Cli;

/// <summary>
/// Rewrites a model directory with its weight matrices in another float type (BF16 halves a draft's size on disk),
/// copying every other file. Vectors (norms, biases) stay f32, as in GGUF files, since they are tiny and precision-sensitive.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "model directory (Hugging Face layout)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "directory to write (may not be the input)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "type of the weight matrices: bf16, f16 or f32", DefaultValueFactory = _ => "bf16" };
        dtype.AcceptOnlyFromAmong("bf16", "f16", "f32");
        var command = new Command("convert", "rewrite a model directory's matrices as BF16, F16 or F32") { model, output, dtype };
        command.SetAction(r => CliErrors.Guard(() =>
        {
            string source = Path.GetFullPath(r.GetValue(model)!), target = Path.GetFullPath(r.GetValue(output)!);
            var type = r.GetValue(dtype) switch { "f16" => DType.F16, "f32" => DType.F32, _ => DType.BF16 };
            var (before, after) = Convert(source, target, type);
            Console.WriteLine($"wrote {target}: matrices as {DTypeInfo.Name(type)}, {before / 1e6:F1} MB -> {after / 1e6:F1} MB");
            return 0;
        }));
        return command;
    }

    public static (long Before, long After) Convert(string source, string target, DType matrices)
    {
        string weights = Path.Combine(source, "model.safetensors");
        if (!File.Exists(weights)) throw new FileNotFoundException($"--model: {weights} does not exist (a single-file safetensors model is expected)", weights);
        if (string.Equals(source.TrimEnd('/'), target.TrimEnd('/'), StringComparison.Ordinal))
            throw new ArgumentException($"--output: {target} is the input directory; write the converted model elsewhere");

        var writer = new SafeTensorsWriter();
        using (var file = SafeTensorsFile.Open(weights))
        {
            foreach (var (key, value) in file.Metadata) writer.Metadata(key, value);
            foreach (var info in file.Tensors.Values)
            {
                if (info.DType is not (DType.F32 or DType.F16 or DType.BF16))
                    throw new InvalidDataException($"{weights}: tensor '{info.Name}' is {DTypeInfo.Name(info.DType)}; only float tensors can be converted");
                writer.Add(info.Name, file.ReadFloat32(info.Name), info.Shape, info.Shape.Length >= 2 ? matrices : DType.F32);
            }
        }
        Directory.CreateDirectory(target);
        foreach (string path in Directory.GetFiles(source))
            if (Path.GetFileName(path) != "model.safetensors") File.Copy(path, Path.Combine(target, Path.GetFileName(path)), overwrite: true);
        string config = Path.Combine(target, "config.json");
        if (File.Exists(config) && JsonNode.Parse(File.ReadAllText(config)) is JsonObject json && json.ContainsKey("torch_dtype"))
        {
            json["torch_dtype"] = matrices switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };
            File.WriteAllText(config, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        string converted = Path.Combine(target, "model.safetensors");
        writer.Save(converted);
        return (new FileInfo(weights).Length, new FileInfo(converted).Length);
    }
}
