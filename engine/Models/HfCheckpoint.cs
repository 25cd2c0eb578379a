using DistillSpec.Models.Architectures;
using DistillSpec.SafeTensors;

namespace DistillSpec.Models;

/// <summary>
/// Reads and writes weights under Hugging Face's tensor names, so users bring model
/// directories as they have them and our trained models load in other tools.
/// </summary>
public static class HfCheckpoint
{
    public static ModelWeights Load(string modelDirectory, ModelConfig config, ModelLoadOptions? options = null)
    {
        options ??= ModelLoadOptions.Default;
        using var files = SafeTensorsCollection.OpenDirectory(modelDirectory);
        EnsureEnoughStored(files, config, modelDirectory);
        var weights = ModelWeights.Allocate(config);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var architecture = ModelArchitectures.Of(config);
        foreach (var tensor in architecture.HfTensors(weights))
        {
            // Same-layout tensors are read straight into their array; fused or transposed ones through one buffer each.
            var buffer = tensor.Direct ?? new float[tensor.ElementCount];
            Read(files, modelDirectory, architecture.HfStoredName(tensor.Name, files.Contains), tensor.Shape, buffer, options.ScanWeights, used);
            if (tensor.Direct is null) tensor.Import(buffer);
        }
        CheckAllUsed(files, config, used, modelDirectory, options);
        return weights;
    }

    // Sizes within ModelConfig's caps can still ask for many gigabytes; a config.json that implies
    // far more weights than the files hold is refused before any of them is allocated. Smaller
    // mismatches are left to the per-tensor check, which names the tensor and both shapes.
    private const long MaxUnstoredElements = 1 << 24;  // 64 MB of f32

    private static void EnsureEnoughStored(SafeTensorsCollection files, ModelConfig c, string dir) =>
        EnsureEnoughStored(c, files.Names.Sum(n => files.Info(n).ElementCount), dir, "config.json");

    internal static void EnsureEnoughStored(ModelConfig c, long stored, string path, string configSource)
    {
        long needed = c.MatrixParameters;
        if (needed - stored > MaxUnstoredElements)
            throw new ModelFormatException(path,
                $"{configSource} implies at least {needed} weights (embedding and layer matrices) but the checkpoint holds {stored}; " +
                "the config does not describe these weights");
    }

    // Hugging Face reports checkpoint tensors the model does not use; silently dropping them hid a
    // checkpoint with more layers than num_hidden_layers. Registered buffers that some exports
    // carry are recomputed here, so they are skipped as Hugging Face skips them; a stored
    // lm_head.weight that tied embeddings override is only a warning.
    private static void CheckAllUsed(SafeTensorsCollection files, ModelConfig config, HashSet<string> used, string dir, ModelLoadOptions options)
    {
        var unused = files.Names.Where(n => !used.Contains(n) && !IsBuffer(n)).Order(StringComparer.Ordinal).ToList();
        if (config.TiedEmbeddings && unused.Remove("lm_head.weight"))
            options.Warning?.Invoke($"{dir}: tensor 'lm_head.weight' is ignored because config.json ties the output to the embedding (tie_word_embeddings)");
        if (unused.Count == 0) return;
        int extraLayers = unused.Select(LayerIndex).Where(i => i >= config.Layers).Distinct().Count();
        string hint = extraLayers > 0 ? $"; {extraLayers} of their layers lie beyond num_hidden_layers = {config.Layers}" : "";
        throw new ModelFormatException(dir,
            $"{unused.Count} tensors are not used by config.json ({config.ArchitectureName}){hint}: " +
            string.Join(", ", unused.Take(8)) + (unused.Count > 8 ? ", ..." : ""));
    }

    private static bool IsBuffer(string name) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal)
        || name.EndsWith(".attn.bias", StringComparison.Ordinal)
        || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    // The layer a tensor name belongs to (model.layers.N. or [transformer.]h.N.), or -1.
    private static int LayerIndex(string name)
    {
        var parts = name.Split('.');
        for (int i = 0; i + 1 < parts.Length; i++)
            if (parts[i] is "layers" or "h" && int.TryParse(parts[i + 1], out int layer)) return layer;
        return -1;
    }

    public static void Save(ModelWeights weights, string modelDirectory, DType storeAs = DType.F32)
    {
        Directory.CreateDirectory(modelDirectory);
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var tensor in ModelArchitectures.Of(weights.Config).HfTensors(weights)) writer.Add(tensor.Name, tensor.Export(), tensor.Shape, storeAs);
        writer.Save(Path.Combine(modelDirectory, "model.safetensors"));
        weights.Config.Save(modelDirectory);
    }

    private static void Read(SafeTensorsCollection files, string dir, string name, int[] shape, float[] destination, bool scan, HashSet<string> used)
    {
        used.Add(name);
        if (!files.Contains(name))
            throw new ModelFormatException(dir, $"tensor '{name}' is missing; expected shape [{string.Join(", ", shape)}]");
        var info = files.Info(name);
        if (!info.Shape.SequenceEqual(shape))
            throw new ModelFormatException(dir,
                $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", shape)}] from config.json");
        files.ReadFloat32(name, destination);
        if (scan) EnsureFinite(destination, name, shape, dir);
    }

    internal static void EnsureFinite(float[] values, string name, int[] shape, string dir)
    {
        int i = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
        if (float.IsFinite(values[i])) i = System.Numerics.Tensors.TensorPrimitives.IndexOfMin(values);
        if (float.IsFinite(values[i])) return;
        string at = shape.Length == 2 ? $"row {i / shape[1]}, column {i % shape[1]}" : $"element {i}";
        throw new ModelFormatException(dir, $"tensor '{name}' holds {Generation.NonFiniteLogitsException.Describe(values[i])} at {at} (shape [{string.Join(", ", shape)}]); the weights are corrupt");
    }
}
