using System.Text.Json;
using DistillSpec.IO;

namespace DistillSpec.Models;

public enum Architecture { Llama, Gpt2 }

/// <summary>
/// The hyper-parameters of a model, read from Hugging Face's config.json with Hugging Face's
/// field names (or from GGUF metadata). Each supported architecture reads and writes its own fields
/// (Architectures/); Architecture picks the transformer's block structure.
/// </summary>
public sealed record ModelConfig
{
    public required Architecture Architecture { get; init; }
    public required string ArchitectureName { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int MaxPositions { get; init; }
    public required float NormEps { get; init; }
    public float RopeTheta { get; init; } = 10000f;
    public bool TiedEmbeddings { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];

    // Records compare arrays by reference; two configs read from the same file must be equal.
    public bool Equals(ModelConfig? other) =>
        other is not null && EqualityContract == other.EqualityContract
        && (Architecture, ArchitectureName, VocabSize, HiddenSize, IntermediateSize, Layers, Heads, KvHeads, HeadDim, MaxPositions)
            == (other.Architecture, other.ArchitectureName, other.VocabSize, other.HiddenSize, other.IntermediateSize, other.Layers, other.Heads, other.KvHeads, other.HeadDim, other.MaxPositions)
        && (NormEps, RopeTheta, TiedEmbeddings, AttentionBias, MlpBias, BosTokenId)
            == (other.NormEps, other.RopeTheta, other.TiedEmbeddings, other.AttentionBias, other.MlpBias, other.BosTokenId)
        && EosTokenIds.SequenceEqual(other.EosTokenIds);

    public override int GetHashCode() => HashCode.Combine(Architecture, VocabSize, HiddenSize, Layers, Heads, KvHeads);

    public int QDim => Heads * HeadDim;
    public int KvDim => KvHeads * HeadDim;

    /// <summary>
    /// Elements of the embedding, learned positions, untied head and every layer's projection
    /// matrices: a lower bound of the weights this config implies (norms and biases come on top).
    /// </summary>
    public long MatrixParameters =>
        (long)VocabSize * HiddenSize * (TiedEmbeddings ? 1 : 2)
        + (Architecture == Architecture.Gpt2 ? (long)MaxPositions * HiddenSize : 0)
        + (long)Layers * HiddenSize * (2L * QDim + 2L * KvDim + (Architecture == Architecture.Gpt2 ? 2L : 3L) * IntermediateSize);

    // Llama's attention_bias covers o_proj too; Qwen2 biases only q, k and v.
    public bool OutputBias => Architecture == Architecture.Gpt2 || (AttentionBias && Architectures.ModelArchitectures.Of(this).OutputBiasWithAttentionBias);

    public static readonly IReadOnlyList<string> SupportedArchitectures = Architectures.ModelArchitectures.HfClassNames;

    /// <summary>The config of a Hugging Face model directory (config.json) or of a GGUF file (its metadata).</summary>
    public static ModelConfig Load(string modelDirectory)
    {
        if (Formats.Gguf.GgufModel.IsGgufFile(modelDirectory)) return Formats.Gguf.GgufModel.ReadConfig(Formats.Gguf.GgufFile.Open(modelDirectory));
        string path = System.IO.Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found; a model directory needs a Hugging Face config.json");
        ModelFiles.EnsureInside(modelDirectory, path);
        using var doc = JsonFile.Parse(path);
        return JsonFile.Guard(path, () => Parse(doc.RootElement, path));
    }

    public static ModelConfig Parse(JsonElement root, string path)
    {
        var json = new ConfigReader(root, path);
        string name = json.Architecture();
        var architecture = Architectures.ModelArchitectures.ByHfClass(name)
            ?? throw new ModelFormatException(path, $"architecture '{name}' is not supported; supported: {string.Join(", ", SupportedArchitectures)}");
        return architecture.ReadHfConfig(json, name).Validate(path);
    }

    // Caps well above any released model (Llama-3.1-405B: hidden 16384, intermediate 53248, 126
    // layers, 128 heads; Gemma-3: vocab 262144), low enough that a corrupt or hostile config.json
    // fails here instead of overflowing a size or allocating without end.
    internal const int MaxVocab = 1 << 22, MaxHidden = 1 << 16, MaxIntermediate = 1 << 18, MaxLayers = 1024,
        MaxHeads = 1024, MaxHeadDim = 1024, MaxContext = 1 << 24;

    /// <summary>Checks every field and that every weight and cache array the config implies fits in one .NET array.</summary>
    public ModelConfig Validate(string path = "config")
    {
        bool gpt2 = Architecture == Architecture.Gpt2;
        InRange(VocabSize, "vocab_size", MaxVocab);
        InRange(HiddenSize, gpt2 ? "n_embd" : "hidden_size", MaxHidden);
        InRange(IntermediateSize, gpt2 ? "n_inner" : "intermediate_size", MaxIntermediate);
        InRange(Layers, gpt2 ? "n_layer" : "num_hidden_layers", MaxLayers);
        InRange(Heads, gpt2 ? "n_head" : "num_attention_heads", MaxHeads);
        InRange(KvHeads, "num_key_value_heads", MaxHeads);
        InRange(MaxPositions, gpt2 ? "n_positions" : "max_position_embeddings", MaxContext);
        if (Heads % KvHeads != 0)
            throw new ModelFormatException(path, $"num_attention_heads ({Heads}) must be a multiple of num_key_value_heads ({KvHeads})");
        if (HeadDim <= 0 || HeadDim % 2 != 0 || HeadDim > MaxHeadDim)
            throw new ModelFormatException(path, $"head dimension must be even and in 2..{MaxHeadDim}, got {HeadDim}" +
                (HeadDim == 0 ? $" (hidden size {HiddenSize} / {Heads} heads)" : ""));
        if (gpt2 && QDim != HiddenSize)
            throw new ModelFormatException(path, $"n_embd ({HiddenSize}) must be a multiple of n_head ({Heads})");
        if (!(NormEps > 0f) || !float.IsFinite(NormEps))
            throw new ModelFormatException(path, $"field '{(gpt2 ? "layer_norm_epsilon" : "rms_norm_eps")}' must be a positive number, got {NormEps}");
        if (!(RopeTheta > 0f) || !float.IsFinite(RopeTheta))
            throw new ModelFormatException(path, $"field 'rope_theta' must be a positive number, got {RopeTheta}");
        if (BosTokenId is int bos) TokenId(bos, "bos_token_id");
        foreach (int eos in EosTokenIds) TokenId(eos, "eos_token_id");

        Fits(VocabSize, HiddenSize, "the embedding (vocab_size x hidden_size)");
        Fits(IntermediateSize, HiddenSize, "an MLP matrix (intermediate_size x hidden_size)");
        Fits(QDim, HiddenSize, "the query projection (num_attention_heads x head_dim x hidden_size)");
        Fits(MaxPositions, Math.Max(KvDim, gpt2 ? HiddenSize : 0), "a layer's KV cache (max_position_embeddings x num_key_value_heads x head_dim)");
        return this;

        void InRange(int value, string field, int max)
        {
            if (value <= 0 || value > max)
                throw new ModelFormatException(path, $"field '{field}' must be in 1..{max}, got {value}");
        }

        void TokenId(int id, string field)
        {
            if (id < 0 || id >= VocabSize)
                throw new ModelFormatException(path, $"field '{field}' is {id}, outside the vocabulary [0, {VocabSize})");
        }

        void Fits(long rows, long cols, string what)
        {
            long elements = checked(rows * cols);
            if (elements > Array.MaxLength)
                throw new ModelFormatException(path, $"{what} would hold {elements} elements, more than one array can ({Array.MaxLength})");
        }
    }

    /// <summary>Writes config.json in Hugging Face's format, so our models load in other tools too.</summary>
    public void Save(string modelDirectory)
    {
        var fields = new Dictionary<string, object?> { ["architectures"] = new[] { ArchitectureName } };
        Architectures.ModelArchitectures.Of(this).WriteHfConfig(this, fields);
        if (BosTokenId is int bos) fields["bos_token_id"] = bos;
        if (EosTokenIds.Length > 0) fields["eos_token_id"] = EosTokenIds.Length == 1 ? EosTokenIds[0] : EosTokenIds;
        fields["torch_dtype"] = "float32";
        AtomicFile.WriteAllText(System.IO.Path.Combine(modelDirectory, "config.json"),
            JsonSerializer.Serialize(fields, new JsonSerializerOptions { WriteIndented = true }));
    }
}
