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
        using var stream = OpenStream(modelDirectory, config, options);
        return stream.ReadAll();
    }

    internal static WeightStream OpenStream(string modelDirectory, ModelConfig config, ModelLoadOptions? options, Func<Backends.WeightFormat, bool>? keep = null)
    {
        options ??= ModelLoadOptions.Default;
        var files = SafeTensorsCollection.OpenDirectory(modelDirectory);
        var architecture = ModelArchitectures.Of(config);
        return WeightStream.Create(new WeightStream.Checkpoint(
            modelDirectory, "config.json", files.Names.Sum(n => files.Info(n).ElementCount),
            name => files.Contains(name) ? files.Info(name).Shape.Select(d => (long)d).ToArray() : null,
            (name, destination) => files.ReadFloat32(name, destination),
            name => architecture.HfStoredName(name, files.Contains),
            used => CheckAllUsed(files, config, used, modelDirectory, options),
            files)
        {
            StoredFormat = name => files.Info(name).DType == DType.BF16 ? Backends.WeightFormat.BF16 : null,
            ReadRows = (name, first, rowBytes, destination) => files.Bytes(name).Slice(checked((int)(first * rowBytes)), destination.Length).CopyTo(destination),
        }, config, hf: true, options, keep);
    }

    // Hugging Face reports checkpoint tensors the model does not use; silently dropping them hid a
    // checkpoint with more layers than num_hidden_layers. Registered buffers that some exports
    // carry are recomputed here, so they are skipped as Hugging Face skips them; a stored
    // lm_head.weight that tied embeddings override is only a warning.
    private static void CheckAllUsed(SafeTensorsCollection files, ModelConfig config, IReadOnlySet<string> used, string dir, ModelLoadOptions options)
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
}
