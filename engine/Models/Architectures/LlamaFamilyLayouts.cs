namespace DistillSpec.Models.Architectures;

/// <summary>
/// A Llama checkpoint's weights in the layout of another Llama-family architecture, computing the same
/// function: Qwen2 with zero q/k/v biases, Phi-3 as is (its projections are fused when saved). Lets one
/// trained model be checked in every layout that can hold it.
/// </summary>
internal static class LlamaFamilyLayouts
{
    /// <summary>The weights as architecture (llama.cpp's name); null when it cannot hold them (GPT-2's LayerNorm, GELU and learned positions).</summary>
    public static ModelWeights? As(ModelWeights llama, string architecture)
    {
        var config = llama.Config;
        if (config.Architecture != Architecture.Llama || config.AttentionBias || config.MlpBias || config.OutputBias)
            throw new ArgumentException($"expected Llama weights without biases, got {config.ArchitectureName}", nameof(llama));
        var registered = ModelArchitectures.ByGgufName(architecture)
            ?? throw new ArgumentException($"unknown architecture '{architecture}'; expected one of {string.Join(", ", ModelArchitectures.GgufNames)}", nameof(architecture));
        if (registered is Gpt2) return null;
        var target = config with { ArchitectureName = registered.HfClasses[0], AttentionBias = registered is Qwen2 };
        var layers = llama.Layers.Select(l => !target.AttentionBias ? l : new LayerWeights
        {
            AttentionNorm = l.AttentionNorm, Query = l.Query, Key = l.Key, Value = l.Value, Output = l.Output,
            QueryBias = new float[target.QDim], KeyBias = new float[target.KvDim], ValueBias = new float[target.KvDim],
            MlpNorm = l.MlpNorm, Gate = l.Gate, Up = l.Up, Down = l.Down,
        }).ToArray();
        return new ModelWeights { Config = target, Embedding = llama.Embedding, Layers = layers, FinalNorm = llama.FinalNorm, LmHead = llama.LmHead };
    }
}
