using DistillSpec.Formats.Gguf;

namespace DistillSpec.Models.Architectures;

/// <summary>
/// Pre-norm decoders with RMSNorm, RoPE, grouped-query attention and a SwiGLU MLP, which share
/// config.json fields and llama.cpp's key names; the members differ in biases, fused projections
/// and the order llama.cpp expects rotary pairs in.
/// </summary>
internal abstract class LlamaFamily : ModelArchitecture
{
    /// <summary>llama.cpp's "llama" rotates adjacent pairs, so q and k rows are permuted on export (RopePermutation).</summary>
    protected virtual bool GgufInterleavedRope => false;

    /// <summary>q, k and v in one matrix and gate and up in another (Phi-3), in both formats.</summary>
    protected virtual bool FusedProjections => false;

    /// <summary>q, k and v biases whatever config.json says (Qwen2).</summary>
    protected virtual bool AlwaysQkvBias => false;

    public override ModelConfig ReadHfConfig(ConfigReader json, string className)
    {
        int vocab = json.Int("vocab_size"), hidden = json.Int("hidden_size"), heads = json.Int("num_attention_heads");
        return new ModelConfig
        {
            Architecture = Architecture.Llama,
            ArchitectureName = className,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = json.Int("intermediate_size"),
            Layers = json.Int("num_hidden_layers"),
            Heads = heads,
            KvHeads = json.OptionalInt("num_key_value_heads") ?? heads,
            HeadDim = json.OptionalInt("head_dim") ?? DefaultHeadDim(hidden, heads, json.Error),
            MaxPositions = json.OptionalInt("max_position_embeddings") ?? 2048,
            NormEps = json.OptionalFloat("rms_norm_eps") ?? 1e-6f,
            RopeTheta = json.OptionalFloat("rope_theta") ?? 10000f,
            TiedEmbeddings = json.OptionalBool("tie_word_embeddings") ?? false,
            AttentionBias = AlwaysQkvBias || (json.OptionalBool("attention_bias") ?? false),
            MlpBias = json.OptionalBool("mlp_bias") ?? false,
            BosTokenId = json.OptionalInt("bos_token_id"),
            EosTokenIds = json.IntOrArray("eos_token_id"),
        };
    }

    // Without an explicit head_dim, heads split the hidden size evenly; a remainder would silently drop columns.
    internal static int DefaultHeadDim(int hidden, int heads, Func<string, ModelFormatException> error) =>
        heads > 0 && hidden % heads != 0
            ? throw error($"hidden size {hidden} is not a multiple of the {heads} attention heads, and no head_dim is given")
            : hidden / Math.Max(1, heads);

    public override void WriteHfConfig(ModelConfig c, IDictionary<string, object?> fields)
    {
        fields["model_type"] = HfModelType(c.ArchitectureName);
        fields["vocab_size"] = c.VocabSize;
        fields["hidden_size"] = c.HiddenSize;
        fields["intermediate_size"] = c.IntermediateSize;
        fields["num_hidden_layers"] = c.Layers;
        fields["num_attention_heads"] = c.Heads;
        fields["num_key_value_heads"] = c.KvHeads;
        fields["head_dim"] = c.HeadDim;
        fields["max_position_embeddings"] = c.MaxPositions;
        fields["rms_norm_eps"] = c.NormEps;
        fields["rope_theta"] = c.RopeTheta;
        fields["tie_word_embeddings"] = c.TiedEmbeddings;
        fields["attention_bias"] = c.AttentionBias;
        fields["mlp_bias"] = c.MlpBias;
        fields["hidden_act"] = "silu";
    }

    public override ModelConfig ReadGgufConfig(GgufConfigReader g)
    {
        int hidden = g.Int("embedding_length"), heads = g.Int("attention.head_count");
        int headDim = g.OptionalInt("attention.key_length") ?? DefaultHeadDim(hidden, heads, g.Error);
        if (g.OptionalInt("attention.value_length") is int v && v != headDim)
            throw g.Error($"metadata '{GgufName}.attention.value_length' is {v} but key_length is {headDim}; different key and value head sizes are not supported");
        if (g.OptionalInt("rope.dimension_count") is int rotary && rotary != headDim)
            throw g.Error($"metadata '{GgufName}.rope.dimension_count' is {rotary}, less than the head size {headDim}; partial rotary embeddings are not supported");
        if (g.OptionalString("rope.scaling.type") is string scaling && scaling != "none")
            throw g.Error($"metadata '{GgufName}.rope.scaling.type' is \"{scaling}\"; scaled rotary embeddings are not supported");
        int vocab = g.Vocabulary();
        bool qkvBias = g.HasTensor(FusedProjections ? "blk.0.attn_qkv.bias" : "blk.0.attn_q.bias");
        return new ModelConfig
        {
            Architecture = Architecture.Llama,
            ArchitectureName = HfClasses[0],
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = g.Int("feed_forward_length"),
            Layers = g.Int("block_count"),
            Heads = heads,
            KvHeads = g.OptionalInt("attention.head_count_kv") ?? heads,
            HeadDim = headDim,
            MaxPositions = g.Int("context_length"),
            NormEps = g.Float("attention.layer_norm_rms_epsilon"),
            RopeTheta = g.OptionalFloat("rope.freq_base") ?? 10000f,
            TiedEmbeddings = !g.HasTensor("output.weight"),
            AttentionBias = qkvBias,
            MlpBias = g.HasTensor("blk.0.ffn_down.bias"),
        };
    }

    public override void WriteGgufConfig(ModelConfig c, GgufWriter gguf)
    {
        string a = GgufName;
        WriteCommonGguf(c, gguf);
        gguf.Add($"{a}.attention.head_count_kv", (uint)c.KvHeads)
            .Add($"{a}.attention.key_length", (uint)c.HeadDim)
            .Add($"{a}.attention.value_length", (uint)c.HeadDim)
            .Add($"{a}.rope.freq_base", c.RopeTheta)
            .Add($"{a}.rope.dimension_count", (uint)c.HeadDim)
            .Add($"{a}.attention.layer_norm_rms_epsilon", c.NormEps);
    }

    public override IEnumerable<StoredTensor> HfGlobalTensors(ModelWeights w)
    {
        var c = w.Config;
        yield return StoredTensor.Same("model.embed_tokens.weight", w.Embedding, c.VocabSize, c.HiddenSize);
        yield return StoredTensor.Same("model.norm.weight", w.FinalNorm, c.HiddenSize);
        if (w.LmHead is not null) yield return StoredTensor.Same("lm_head.weight", w.LmHead, c.VocabSize, c.HiddenSize);
    }

    public override IEnumerable<StoredTensor> HfLayerTensors(ModelConfig c, LayerWeights l, int i)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        string p = $"model.layers.{i}.";
        yield return StoredTensor.Same(p + "input_layernorm.weight", l.AttentionNorm, d);
        if (FusedProjections)
            yield return StoredTensor.Stacked(p + "self_attn.qkv_proj.weight", d, l.Query, l.Key, l.Value);
        else
        {
            yield return StoredTensor.Same(p + "self_attn.q_proj.weight", l.Query, c.QDim, d);
            yield return StoredTensor.Same(p + "self_attn.k_proj.weight", l.Key, c.KvDim, d);
            yield return StoredTensor.Same(p + "self_attn.v_proj.weight", l.Value, c.KvDim, d);
            foreach (var t in StoredTensor.Optional(p + "self_attn.q_proj.bias", l.QueryBias, c.QDim)) yield return t;
            foreach (var t in StoredTensor.Optional(p + "self_attn.k_proj.bias", l.KeyBias, c.KvDim)) yield return t;
            foreach (var t in StoredTensor.Optional(p + "self_attn.v_proj.bias", l.ValueBias, c.KvDim)) yield return t;
        }
        yield return StoredTensor.Same(p + "self_attn.o_proj.weight", l.Output, d, c.QDim);
        foreach (var t in StoredTensor.Optional(p + "self_attn.o_proj.bias", l.OutputBias, d)) yield return t;
        yield return StoredTensor.Same(p + "post_attention_layernorm.weight", l.MlpNorm, d);
        if (FusedProjections)
            yield return StoredTensor.Stacked(p + "mlp.gate_up_proj.weight", d, l.Gate!, l.Up);
        else
        {
            yield return StoredTensor.Same(p + "mlp.gate_proj.weight", l.Gate!, f, d);
            yield return StoredTensor.Same(p + "mlp.up_proj.weight", l.Up, f, d);
            foreach (var t in StoredTensor.Optional(p + "mlp.gate_proj.bias", l.GateBias, f)) yield return t;
            foreach (var t in StoredTensor.Optional(p + "mlp.up_proj.bias", l.UpBias, f)) yield return t;
        }
        yield return StoredTensor.Same(p + "mlp.down_proj.weight", l.Down, d, f);
        foreach (var t in StoredTensor.Optional(p + "mlp.down_proj.bias", l.DownBias, d)) yield return t;
    }

    public override IEnumerable<StoredTensor> GgufGlobalTensors(ModelWeights w)
    {
        var c = w.Config;
        yield return StoredTensor.Same("token_embd.weight", w.Embedding, c.VocabSize, c.HiddenSize);
        yield return StoredTensor.Same("output_norm.weight", w.FinalNorm, c.HiddenSize);
        // Tied models have no output.weight: llama.cpp then reuses token_embd.
        if (w.LmHead is not null) yield return StoredTensor.Same("output.weight", w.LmHead, c.VocabSize, c.HiddenSize);
    }

    public override IEnumerable<StoredTensor> GgufLayerTensors(ModelConfig c, LayerWeights l, int i)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        string p = $"blk.{i}.";
        yield return StoredTensor.Same(p + "attn_norm.weight", l.AttentionNorm, d);
        if (FusedProjections)
            yield return StoredTensor.Stacked(p + "attn_qkv.weight", d, l.Query, l.Key, l.Value);
        else
        {
            yield return Rope(p + "attn_q.weight", l.Query, c.Heads, d, [c.QDim, d]);
            yield return Rope(p + "attn_k.weight", l.Key, c.KvHeads, d, [c.KvDim, d]);
            yield return StoredTensor.Same(p + "attn_v.weight", l.Value, c.KvDim, d);
            if (l.QueryBias is not null) yield return Rope(p + "attn_q.bias", l.QueryBias, c.Heads, 1, [c.QDim]);
            if (l.KeyBias is not null) yield return Rope(p + "attn_k.bias", l.KeyBias, c.KvHeads, 1, [c.KvDim]);
            foreach (var t in StoredTensor.Optional(p + "attn_v.bias", l.ValueBias, c.KvDim)) yield return t;
        }
        yield return StoredTensor.Same(p + "attn_output.weight", l.Output, d, c.QDim);
        foreach (var t in StoredTensor.Optional(p + "attn_output.bias", l.OutputBias, d)) yield return t;
        yield return StoredTensor.Same(p + "ffn_norm.weight", l.MlpNorm, d);
        // llama.cpp's Phi-3 keeps gate and up fused in ffn_up, gate first, as Hugging Face's gate_up_proj.
        if (FusedProjections)
            yield return StoredTensor.Stacked(p + "ffn_up.weight", d, l.Gate!, l.Up);
        else
        {
            yield return StoredTensor.Same(p + "ffn_gate.weight", l.Gate!, f, d);
            yield return StoredTensor.Same(p + "ffn_up.weight", l.Up, f, d);
            foreach (var t in StoredTensor.Optional(p + "ffn_gate.bias", l.GateBias, f)) yield return t;
            foreach (var t in StoredTensor.Optional(p + "ffn_up.bias", l.UpBias, f)) yield return t;
        }
        yield return StoredTensor.Same(p + "ffn_down.weight", l.Down, d, f);
        foreach (var t in StoredTensor.Optional(p + "ffn_down.bias", l.DownBias, d)) yield return t;

        StoredTensor Rope(string name, float[] data, int heads, int columns, int[] shape) =>
            GgufInterleavedRope
                ? StoredTensor.Permuted(name, data, shape,
                    ours => RopePermutation.ToInterleaved(ours, heads, c.HeadDim, columns),
                    (stored, cols) => RopePermutation.ToRotateHalf(stored, heads, c.HeadDim, cols))
                : StoredTensor.Same(name, data, shape);
    }
}
