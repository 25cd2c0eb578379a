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
        if (config.Architecture == Architecture.Gpt2) LoadGpt2(files, weights, modelDirectory, options.ScanWeights, used);
        else
            foreach (var (name, data, shape) in LlamaTensors(weights))
                Read(files, modelDirectory, name, shape, data, options.ScanWeights, used);
        CheckAllUsed(files, config, used, modelDirectory, options);
        return weights;
    }

    // Sizes within ModelConfig's caps can still ask for many gigabytes; a config.json that implies
    // far more weights than the files hold is refused before any of them is allocated. Smaller
    // mismatches are left to the per-tensor check, which names the tensor and both shapes.
    private const long MaxUnstoredElements = 1 << 24;  // 64 MB of f32

    private static void EnsureEnoughStored(SafeTensorsCollection files, ModelConfig c, string dir)
    {
        long stored = files.Names.Sum(n => files.Info(n).ElementCount);
        long needed = c.MatrixParameters;
        if (needed - stored > MaxUnstoredElements)
            throw new ModelFormatException(dir,
                $"config.json implies at least {needed} weights (embedding and layer matrices) but the checkpoint holds {stored}; " +
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
        var tensors = weights.Config.Architecture == Architecture.Gpt2 ? Gpt2Tensors(weights) : LlamaTensors(weights);
        foreach (var (name, data, shape) in tensors) writer.Add(name, data, shape, storeAs);
        writer.Save(Path.Combine(modelDirectory, "model.safetensors"));
        weights.Config.Save(modelDirectory);
    }

    /// <summary>Hugging Face name, our array and its shape, for every Llama-family tensor the config implies.</summary>
    private static IEnumerable<(string Name, float[] Data, int[] Shape)> LlamaTensors(ModelWeights w)
    {
        var c = w.Config;
        int d = c.HiddenSize, f = c.IntermediateSize;
        yield return ("model.embed_tokens.weight", w.Embedding, [c.VocabSize, d]);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            string p = $"model.layers.{i}.";
            yield return (p + "input_layernorm.weight", l.AttentionNorm, [d]);
            yield return (p + "self_attn.q_proj.weight", l.Query, [c.QDim, d]);
            yield return (p + "self_attn.k_proj.weight", l.Key, [c.KvDim, d]);
            yield return (p + "self_attn.v_proj.weight", l.Value, [c.KvDim, d]);
            yield return (p + "self_attn.o_proj.weight", l.Output, [d, c.QDim]);
            if (l.QueryBias is not null) yield return (p + "self_attn.q_proj.bias", l.QueryBias, [c.QDim]);
            if (l.KeyBias is not null) yield return (p + "self_attn.k_proj.bias", l.KeyBias, [c.KvDim]);
            if (l.ValueBias is not null) yield return (p + "self_attn.v_proj.bias", l.ValueBias, [c.KvDim]);
            if (l.OutputBias is not null) yield return (p + "self_attn.o_proj.bias", l.OutputBias, [d]);
            yield return (p + "post_attention_layernorm.weight", l.MlpNorm, [d]);
            yield return (p + "mlp.gate_proj.weight", l.Gate!, [f, d]);
            yield return (p + "mlp.up_proj.weight", l.Up, [f, d]);
            yield return (p + "mlp.down_proj.weight", l.Down, [d, f]);
            if (l.GateBias is not null) yield return (p + "mlp.gate_proj.bias", l.GateBias, [f]);
            if (l.UpBias is not null) yield return (p + "mlp.up_proj.bias", l.UpBias, [f]);
            if (l.DownBias is not null) yield return (p + "mlp.down_proj.bias", l.DownBias, [d]);
        }
        yield return ("model.norm.weight", w.FinalNorm, [d]);
        if (w.LmHead is not null) yield return ("lm_head.weight", w.LmHead, [c.VocabSize, d]);
    }

    // GPT-2 stores Conv1D weights as (in, out) and fuses q, k, v into c_attn (hidden, 3 * hidden).
    private static IEnumerable<(string Name, float[] Data, int[] Shape)> Gpt2Tensors(ModelWeights w)
    {
        var c = w.Config;
        int d = c.HiddenSize, f = c.IntermediateSize;
        yield return ("transformer.wte.weight", w.Embedding, [c.VocabSize, d]);
        yield return ("transformer.wpe.weight", w.Positions!, [c.MaxPositions, d]);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            string p = $"transformer.h.{i}.";
            var qkv = new float[3 * d * d];
            WriteTransposed(l.Query, d, d, qkv, 3 * d, 0);
            WriteTransposed(l.Key, d, d, qkv, 3 * d, d);
            WriteTransposed(l.Value, d, d, qkv, 3 * d, 2 * d);
            yield return (p + "ln_1.weight", l.AttentionNorm, [d]);
            yield return (p + "ln_1.bias", l.AttentionNormBias!, [d]);
            yield return (p + "attn.c_attn.weight", qkv, [d, 3 * d]);
            yield return (p + "attn.c_attn.bias", [.. l.QueryBias!, .. l.KeyBias!, .. l.ValueBias!], [3 * d]);
            yield return (p + "attn.c_proj.weight", Transpose(l.Output, d, d), [d, d]);
            yield return (p + "attn.c_proj.bias", l.OutputBias!, [d]);
            yield return (p + "ln_2.weight", l.MlpNorm, [d]);
            yield return (p + "ln_2.bias", l.MlpNormBias!, [d]);
            yield return (p + "mlp.c_fc.weight", Transpose(l.Up, f, d), [d, f]);
            yield return (p + "mlp.c_fc.bias", l.UpBias!, [f]);
            yield return (p + "mlp.c_proj.weight", Transpose(l.Down, d, f), [f, d]);
            yield return (p + "mlp.c_proj.bias", l.DownBias!, [d]);
        }
        yield return ("transformer.ln_f.weight", w.FinalNorm, [d]);
        yield return ("transformer.ln_f.bias", w.FinalNormBias!, [d]);
    }

    private static void LoadGpt2(SafeTensorsCollection files, ModelWeights w, string dir, bool scan, HashSet<string> used)
    {
        // Hugging Face's own gpt2 checkpoint has no "transformer." prefix; re-saved ones do.
        string prefix = files.Contains("transformer.wte.weight") ? "transformer." : "";
        var c = w.Config;
        int d = c.HiddenSize, f = c.IntermediateSize;
        foreach (var (name, data, shape) in Gpt2Tensors(ModelWeights.Allocate(c)))
        {
            string stored = prefix + name["transformer.".Length..];
            var buffer = new float[data.Length];
            Read(files, dir, stored, shape, buffer, scan, used);
            string leaf = name["transformer.".Length..];
            LayerWeights? l = null;
            if (leaf.StartsWith("h.", StringComparison.Ordinal))
            {
                var parts = leaf.Split('.', 3);
                l = w.Layers[int.Parse(parts[1])];
                leaf = parts[2];
            }
            switch (leaf)
            {
                case "wte.weight": buffer.CopyTo(w.Embedding, 0); break;
                case "wpe.weight": buffer.CopyTo(w.Positions!, 0); break;
                case "ln_f.weight": buffer.CopyTo(w.FinalNorm, 0); break;
                case "ln_f.bias": buffer.CopyTo(w.FinalNormBias!, 0); break;
                case "ln_1.weight": buffer.CopyTo(l!.AttentionNorm, 0); break;
                case "ln_1.bias": buffer.CopyTo(l!.AttentionNormBias!, 0); break;
                case "ln_2.weight": buffer.CopyTo(l!.MlpNorm, 0); break;
                case "ln_2.bias": buffer.CopyTo(l!.MlpNormBias!, 0); break;
                case "attn.c_attn.weight":
                    ReadTransposed(buffer, 3 * d, 0, l!.Query, d, d);
                    ReadTransposed(buffer, 3 * d, d, l.Key, d, d);
                    ReadTransposed(buffer, 3 * d, 2 * d, l.Value, d, d);
                    break;
                case "attn.c_attn.bias":
                    buffer.AsSpan(0, d).CopyTo(l!.QueryBias);
                    buffer.AsSpan(d, d).CopyTo(l.KeyBias);
                    buffer.AsSpan(2 * d, d).CopyTo(l.ValueBias);
                    break;
                case "attn.c_proj.weight": ReadTransposed(buffer, d, 0, l!.Output, d, d); break;
                case "attn.c_proj.bias": buffer.CopyTo(l!.OutputBias!, 0); break;
                case "mlp.c_fc.weight": ReadTransposed(buffer, f, 0, l!.Up, f, d); break;
                case "mlp.c_fc.bias": buffer.CopyTo(l!.UpBias!, 0); break;
                case "mlp.c_proj.weight": ReadTransposed(buffer, d, 0, l!.Down, d, f); break;
                case "mlp.c_proj.bias": buffer.CopyTo(l!.DownBias!, 0); break;
                default: throw new InvalidOperationException($"unmapped GPT-2 tensor {name}");
            }
        }
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

    private static void EnsureFinite(float[] values, string name, int[] shape, string dir)
    {
        int i = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
        if (float.IsFinite(values[i])) i = System.Numerics.Tensors.TensorPrimitives.IndexOfMin(values);
        if (float.IsFinite(values[i])) return;
        string at = shape.Length == 2 ? $"row {i / shape[1]}, column {i % shape[1]}" : $"element {i}";
        throw new ModelFormatException(dir, $"tensor '{name}' holds {Generation.NonFiniteLogitsException.Describe(values[i])} at {at} (shape [{string.Join(", ", shape)}]); the weights are corrupt");
    }

    // source (rows, cols) -> destination columns [column, column + rows) of a (cols, stride) matrix
    private static void WriteTransposed(float[] source, int rows, int cols, float[] destination, int stride, int column)
    {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++)
                destination[i * stride + column + r] = source[r * cols + i];
    }

    // destination (rows, cols) = columns [column, column + rows) of source (cols, stride), transposed
    private static void ReadTransposed(float[] source, int stride, int column, float[] destination, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++)
                destination[r * cols + i] = source[i * stride + column + r];
    }

    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var t = new float[source.Length];
        WriteTransposed(source, rows, cols, t, rows, 0);
        return t;
    }
}
