namespace DistillSpec.Models;

/// <summary>
/// Host-side f32 weights in the engine's canonical layout: every Linear weight is (out, in)
/// as in Hugging Face's nn.Linear; GPT-2's Conv1D (in, out) weights are transposed on load.
/// </summary>
public sealed class ModelWeights
{
    public required ModelConfig Config { get; init; }
    public required float[] Embedding { get; init; }       // (vocab, hidden)
    public float[]? Positions { get; init; }               // (max positions, hidden), GPT-2 only
    public required LayerWeights[] Layers { get; init; }
    public required float[] FinalNorm { get; init; }       // (hidden)
    public float[]? FinalNormBias { get; init; }           // (hidden), LayerNorm only
    public float[]? LmHead { get; init; }                  // (vocab, hidden); null when tied to Embedding

    public float[] OutputProjection => LmHead ?? Embedding;

    /// <summary>The weights of a Hugging Face model directory or a GGUF file, for the config read from the same place.</summary>
    internal static ModelWeights Load(string path, ModelConfig config, ModelLoadOptions? options = null)
    {
        using var stream = WeightStream.Open(path, config, options);
        return stream.ReadAll();
    }

    /// <summary>Zero-filled weights of the right shapes for a config.</summary>
    public static ModelWeights Allocate(ModelConfig c) => WithLayers(AllocateGlobals(c), Enumerable.Range(0, c.Layers).Select(_ => LayerWeights.Allocate(c)).ToArray());

    /// <summary>The weights outside the layers, with no layers: what a <see cref="WeightStream"/> holds up front.</summary>
    internal static ModelWeights AllocateGlobals(ModelConfig c)
    {
        bool gpt2 = c.Architecture == Architecture.Gpt2;
        int d = c.HiddenSize;
        return new ModelWeights
        {
            Config = c,
            Embedding = new float[c.VocabSize * d],
            Positions = gpt2 ? new float[c.MaxPositions * d] : null,
            Layers = [],
            FinalNorm = new float[d],
            FinalNormBias = gpt2 ? new float[d] : null,
            LmHead = c.TiedEmbeddings ? null : new float[c.VocabSize * d],
        };
    }

    internal static ModelWeights WithLayers(ModelWeights globals, LayerWeights[] layers) => new()
    {
        Config = globals.Config,
        Embedding = globals.Embedding,
        Positions = globals.Positions,
        Layers = layers,
        FinalNorm = globals.FinalNorm,
        FinalNormBias = globals.FinalNormBias,
        LmHead = globals.LmHead,
    };

    /// <summary>
    /// Seeded random weights: N(0, std) matrices, norm gains near 1 and small biases, so tests
    /// exercise every parameter and speed benchmarks have realistic shapes.
    /// </summary>
    public static ModelWeights Random(ModelConfig config, int seed, float std = 0.02f)
    {
        var w = Allocate(config);
        var rng = new Random(seed);
        foreach (var (_, data, kind) in w.Parameters())
            for (int i = 0; i < data.Length; i++)
                data[i] = kind switch
                {
                    ParameterKind.Gain => 1f + 0.1f * Gaussian(rng),
                    ParameterKind.Bias => 0.02f * Gaussian(rng),
                    _ => std * Gaussian(rng),
                };
        return w;
    }

    /// <summary>Every parameter array once, with a stable name (used for init, optimisers and checks).</summary>
    public IEnumerable<(string Name, float[] Data, ParameterKind Kind)> Parameters()
    {
        yield return ("embedding", Embedding, ParameterKind.Matrix);
        if (Positions is not null) yield return ("positions", Positions, ParameterKind.Matrix);
        for (int i = 0; i < Layers.Length; i++)
            foreach (var (name, data, kind) in Layers[i].Parameters())
                yield return ($"layers.{i}.{name}", data, kind);
        yield return ("final_norm", FinalNorm, ParameterKind.Gain);
        if (FinalNormBias is not null) yield return ("final_norm_bias", FinalNormBias, ParameterKind.Bias);
        if (LmHead is not null) yield return ("lm_head", LmHead, ParameterKind.Matrix);
    }

    internal static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}

public enum ParameterKind { Matrix, Gain, Bias }

public sealed class LayerWeights
{
    /// <summary>Zero-filled weights of one layer of a config.</summary>
    internal static LayerWeights Allocate(ModelConfig c)
    {
        bool gpt2 = c.Architecture == Architecture.Gpt2;
        int d = c.HiddenSize, f = c.IntermediateSize;
        return new LayerWeights
        {
            AttentionNorm = new float[d],
            AttentionNormBias = gpt2 ? new float[d] : null,
            Query = new float[c.QDim * d],
            Key = new float[c.KvDim * d],
            Value = new float[c.KvDim * d],
            Output = new float[d * c.QDim],
            QueryBias = gpt2 || c.AttentionBias ? new float[c.QDim] : null,
            KeyBias = gpt2 || c.AttentionBias ? new float[c.KvDim] : null,
            ValueBias = gpt2 || c.AttentionBias ? new float[c.KvDim] : null,
            OutputBias = c.OutputBias ? new float[d] : null,
            MlpNorm = new float[d],
            MlpNormBias = gpt2 ? new float[d] : null,
            Gate = gpt2 ? null : new float[f * d],
            GateBias = c.MlpBias ? new float[f] : null,
            Up = new float[f * d],
            UpBias = gpt2 || c.MlpBias ? new float[f] : null,
            Down = new float[d * f],
            DownBias = gpt2 || c.MlpBias ? new float[d] : null,
        };
    }

    public required float[] AttentionNorm { get; init; }
    public float[]? AttentionNormBias { get; init; }
    public required float[] Query { get; init; }    // (heads * headDim, hidden)
    public required float[] Key { get; init; }      // (kvHeads * headDim, hidden)
    public required float[] Value { get; init; }    // (kvHeads * headDim, hidden)
    public required float[] Output { get; init; }   // (hidden, heads * headDim)
    public float[]? QueryBias { get; init; }
    public float[]? KeyBias { get; init; }
    public float[]? ValueBias { get; init; }
    public float[]? OutputBias { get; init; }
    public required float[] MlpNorm { get; init; }
    public float[]? MlpNormBias { get; init; }
    public float[]? Gate { get; init; }             // (intermediate, hidden), SwiGLU only
    public float[]? GateBias { get; init; }
    public required float[] Up { get; init; }       // (intermediate, hidden)
    public float[]? UpBias { get; init; }
    public required float[] Down { get; init; }     // (hidden, intermediate)
    public float[]? DownBias { get; init; }

    public IEnumerable<(string Name, float[] Data, ParameterKind Kind)> Parameters()
    {
        (string, float[]?, ParameterKind)[] all =
        [
            ("attention_norm", AttentionNorm, ParameterKind.Gain), ("attention_norm_bias", AttentionNormBias, ParameterKind.Bias),
            ("query", Query, ParameterKind.Matrix), ("query_bias", QueryBias, ParameterKind.Bias),
            ("key", Key, ParameterKind.Matrix), ("key_bias", KeyBias, ParameterKind.Bias),
            ("value", Value, ParameterKind.Matrix), ("value_bias", ValueBias, ParameterKind.Bias),
            ("output", Output, ParameterKind.Matrix), ("output_bias", OutputBias, ParameterKind.Bias),
            ("mlp_norm", MlpNorm, ParameterKind.Gain), ("mlp_norm_bias", MlpNormBias, ParameterKind.Bias),
            ("gate", Gate, ParameterKind.Matrix), ("gate_bias", GateBias, ParameterKind.Bias),
            ("up", Up, ParameterKind.Matrix), ("up_bias", UpBias, ParameterKind.Bias),
            ("down", Down, ParameterKind.Matrix), ("down_bias", DownBias, ParameterKind.Bias),
        ];
        foreach (var (name, data, kind) in all)
            if (data is not null) yield return (name, data, kind);
    }
}
