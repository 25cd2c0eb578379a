using DistillSpec.Formats.Gguf;

namespace DistillSpec.Models.Architectures;

/// <summary>
/// GPT-2: LayerNorm with bias, learned absolute positions, a GELU MLP, biases everywhere and the
/// output tied to the embedding. Hugging Face stores Conv1D weights (in, out) with q, k, v fused
/// in c_attn; llama.cpp stores them (out, in), still fused, as attn_qkv.
/// </summary>
internal sealed class Gpt2 : ModelArchitecture
{
    private const string Prefix = "transformer.";

    public override IReadOnlyList<string> HfClasses { get; } = ["GPT2LMHeadModel"];

    public override string GgufName => "gpt2";

    public override ModelConfig ReadHfConfig(ConfigReader json, string className)
    {
        int vocab = json.Int("vocab_size"), hidden = json.Int("n_embd"), heads = json.Int("n_head");
        return new ModelConfig
        {
            Architecture = Architecture.Gpt2,
            ArchitectureName = className,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = json.OptionalInt("n_inner") ?? 4 * hidden,
            Layers = json.Int("n_layer"),
            Heads = heads,
            KvHeads = heads,
            HeadDim = LlamaFamily.DefaultHeadDim(hidden, heads, json.Error),
            MaxPositions = json.OptionalInt("n_positions") ?? json.Int("n_ctx"),
            NormEps = json.OptionalFloat("layer_norm_epsilon") ?? 1e-5f,
            TiedEmbeddings = true,
            BosTokenId = json.OptionalInt("bos_token_id"),
            EosTokenIds = json.IntOrArray("eos_token_id"),
        };
    }

    public override void WriteHfConfig(ModelConfig c, IDictionary<string, object?> fields)
    {
        fields["model_type"] = HfModelType(c.ArchitectureName);
        fields["vocab_size"] = c.VocabSize;
        fields["n_embd"] = c.HiddenSize;
        fields["n_inner"] = c.IntermediateSize;
        fields["n_layer"] = c.Layers;
        fields["n_head"] = c.Heads;
        fields["n_positions"] = c.MaxPositions;
        fields["n_ctx"] = c.MaxPositions;
        fields["layer_norm_epsilon"] = c.NormEps;
        fields["activation_function"] = "gelu_new";
    }

    public override ModelConfig ReadGgufConfig(GgufConfigReader g)
    {
        int hidden = g.Int("embedding_length"), heads = g.Int("attention.head_count");
        if (g.OptionalInt("attention.head_count_kv") is int kv && kv != heads)
            throw g.Error($"metadata 'gpt2.attention.head_count_kv' is {kv}; GPT-2 has as many key/value heads as heads ({heads})");
        int vocab = g.Vocabulary();
        return new ModelConfig
        {
            Architecture = Architecture.Gpt2,
            ArchitectureName = HfClasses[0],
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = g.Int("feed_forward_length"),
            Layers = g.Int("block_count"),
            Heads = heads,
            KvHeads = heads,
            HeadDim = LlamaFamily.DefaultHeadDim(hidden, heads, g.Error),
            MaxPositions = g.Int("context_length"),
            NormEps = g.Float("attention.layer_norm_epsilon"),
            TiedEmbeddings = true,
        };
    }

    public override void WriteGgufConfig(ModelConfig c, GgufWriter gguf)
    {
        WriteCommonGguf(c, gguf);
        gguf.Add("gpt2.attention.layer_norm_epsilon", c.NormEps);
    }

    // Hugging Face's own gpt2 checkpoint has no "transformer." prefix; re-saved ones do.
    public override string HfStoredName(string name, Func<string, bool> contains) =>
        name.StartsWith(Prefix, StringComparison.Ordinal) && !contains(name) && contains(name[Prefix.Length..]) ? name[Prefix.Length..] : name;

    public override IEnumerable<StoredTensor> HfGlobalTensors(ModelWeights w)
    {
        var c = w.Config;
        yield return StoredTensor.Same(Prefix + "wte.weight", w.Embedding, c.VocabSize, c.HiddenSize);
        yield return StoredTensor.Same(Prefix + "wpe.weight", w.Positions!, c.MaxPositions, c.HiddenSize);
        yield return StoredTensor.Same(Prefix + "ln_f.weight", w.FinalNorm, c.HiddenSize);
        yield return StoredTensor.Same(Prefix + "ln_f.bias", w.FinalNormBias!, c.HiddenSize);
    }

    public override IEnumerable<StoredTensor> HfLayerTensors(ModelConfig c, LayerWeights l, int i)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        string p = $"{Prefix}h.{i}.";
        yield return StoredTensor.Same(p + "ln_1.weight", l.AttentionNorm, d);
        yield return StoredTensor.Same(p + "ln_1.bias", l.AttentionNormBias!, d);
        yield return StoredTensor.Transposed(p + "attn.c_attn.weight", d, l.Query, l.Key, l.Value);
        yield return StoredTensor.Stacked(p + "attn.c_attn.bias", 1, l.QueryBias!, l.KeyBias!, l.ValueBias!);
        yield return StoredTensor.Transposed(p + "attn.c_proj.weight", c.QDim, l.Output);
        yield return StoredTensor.Same(p + "attn.c_proj.bias", l.OutputBias!, d);
        yield return StoredTensor.Same(p + "ln_2.weight", l.MlpNorm, d);
        yield return StoredTensor.Same(p + "ln_2.bias", l.MlpNormBias!, d);
        yield return StoredTensor.Transposed(p + "mlp.c_fc.weight", d, l.Up);
        yield return StoredTensor.Same(p + "mlp.c_fc.bias", l.UpBias!, f);
        yield return StoredTensor.Transposed(p + "mlp.c_proj.weight", f, l.Down);
        yield return StoredTensor.Same(p + "mlp.c_proj.bias", l.DownBias!, d);
    }

    public override IEnumerable<StoredTensor> GgufGlobalTensors(ModelWeights w)
    {
        var c = w.Config;
        yield return StoredTensor.Same("token_embd.weight", w.Embedding, c.VocabSize, c.HiddenSize);
        yield return StoredTensor.Same("position_embd.weight", w.Positions!, c.MaxPositions, c.HiddenSize);
        yield return StoredTensor.Same("output_norm.weight", w.FinalNorm, c.HiddenSize);
        yield return StoredTensor.Same("output_norm.bias", w.FinalNormBias!, c.HiddenSize);
    }

    public override IEnumerable<StoredTensor> GgufLayerTensors(ModelConfig c, LayerWeights l, int i)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        string p = $"blk.{i}.";
        yield return StoredTensor.Same(p + "attn_norm.weight", l.AttentionNorm, d);
        yield return StoredTensor.Same(p + "attn_norm.bias", l.AttentionNormBias!, d);
        yield return StoredTensor.Stacked(p + "attn_qkv.weight", d, l.Query, l.Key, l.Value);
        yield return StoredTensor.Stacked(p + "attn_qkv.bias", 1, l.QueryBias!, l.KeyBias!, l.ValueBias!);
        yield return StoredTensor.Same(p + "attn_output.weight", l.Output, d, c.QDim);
        yield return StoredTensor.Same(p + "attn_output.bias", l.OutputBias!, d);
        yield return StoredTensor.Same(p + "ffn_norm.weight", l.MlpNorm, d);
        yield return StoredTensor.Same(p + "ffn_norm.bias", l.MlpNormBias!, d);
        yield return StoredTensor.Same(p + "ffn_up.weight", l.Up, f, d);
        yield return StoredTensor.Same(p + "ffn_up.bias", l.UpBias!, f);
        yield return StoredTensor.Same(p + "ffn_down.weight", l.Down, d, f);
        yield return StoredTensor.Same(p + "ffn_down.bias", l.DownBias!, d);
    }
}
