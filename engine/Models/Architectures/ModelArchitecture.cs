using DistillSpec.Formats.Gguf;

namespace DistillSpec.Models.Architectures;

/// <summary>
/// Everything that differs between model families, in one place per family: how Hugging Face's
/// config.json and llama.cpp's GGUF metadata describe the hyper-parameters, and under which names
/// and layouts each format stores the weights. The transformer itself is one definition
/// (Transformer.cs); ModelConfig.Architecture picks its block structure.
/// </summary>
internal abstract class ModelArchitecture
{
    /// <summary>Hugging Face class names (config.json "architectures"); the first is the one written.</summary>
    public abstract IReadOnlyList<string> HfClasses { get; }

    /// <summary>config.json "model_type" of one of HfClasses.</summary>
    public virtual string HfModelType(string className) => GgufName;

    /// <summary>llama.cpp's name (general.architecture), also the prefix of its hyper-parameter keys.</summary>
    public abstract string GgufName { get; }

    /// <summary>Whether attention_bias adds a bias to the output projection too (Llama), or only to q, k and v (Qwen2).</summary>
    public virtual bool OutputBiasWithAttentionBias => true;

    public abstract ModelConfig ReadHfConfig(ConfigReader json, string className);

    public abstract void WriteHfConfig(ModelConfig c, IDictionary<string, object?> fields);

    public abstract ModelConfig ReadGgufConfig(GgufConfigReader gguf);

    public abstract void WriteGgufConfig(ModelConfig c, GgufWriter gguf);

    /// <summary>Every tensor of a Hugging Face checkpoint of these weights.</summary>
    public IEnumerable<StoredTensor> HfTensors(ModelWeights w) =>
        HfGlobalTensors(w).Concat(Enumerable.Range(0, w.Config.Layers).SelectMany(i => HfLayerTensors(w.Config, w.Layers[i], i)));

    /// <summary>Every tensor of a llama.cpp GGUF file of these weights.</summary>
    public IEnumerable<StoredTensor> GgufTensors(ModelWeights w) =>
        GgufGlobalTensors(w).Concat(Enumerable.Range(0, w.Config.Layers).SelectMany(i => GgufLayerTensors(w.Config, w.Layers[i], i)));

    /// <summary>The checkpoint's tensors outside the layers (embeddings, final norm, head); w.Layers is not read.</summary>
    public abstract IEnumerable<StoredTensor> HfGlobalTensors(ModelWeights w);

    /// <summary>The checkpoint's tensors of layer i, held in l.</summary>
    public abstract IEnumerable<StoredTensor> HfLayerTensors(ModelConfig c, LayerWeights l, int i);

    public abstract IEnumerable<StoredTensor> GgufGlobalTensors(ModelWeights w);

    public abstract IEnumerable<StoredTensor> GgufLayerTensors(ModelConfig c, LayerWeights l, int i);

    /// <summary>The name a checkpoint stores a tensor under when it differs from HfTensors' (GPT-2 without "transformer.").</summary>
    public virtual string HfStoredName(string name, Func<string, bool> contains) => name;

    /// <summary>The shared fields of every config, named as llama.cpp names them (key_length because head_dim need not be hidden / heads).</summary>
    protected void WriteCommonGguf(ModelConfig c, GgufWriter gguf)
    {
        string a = GgufName;
        gguf.Add($"{a}.vocab_size", (uint)c.VocabSize)
            .Add($"{a}.context_length", (uint)c.MaxPositions)
            .Add($"{a}.embedding_length", (uint)c.HiddenSize)
            .Add($"{a}.block_count", (uint)c.Layers)
            .Add($"{a}.feed_forward_length", (uint)c.IntermediateSize)
            .Add($"{a}.attention.head_count", (uint)c.Heads);
    }
}
