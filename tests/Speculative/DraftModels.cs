using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Speculative;

/// <summary>Target/draft pairs for speculative decoding tests, from tiny random configs.</summary>
internal static class DraftModels
{
    public static Transformer Create(ModelConfig config, ModelWeights weights) => new(config, weights, new SimdBackend(1));

    public static Transformer Random(ModelConfig config, int seed, float std = 0.2f) => Create(config, ModelWeights.Random(config, seed, std));

    /// <summary>A "trained-like" draft: the target's weights plus N(0, noise) on every parameter.</summary>
    public static Transformer Perturbed(ModelWeights target, float noise, int seed) => Create(target.Config, PerturbedWeights(target, noise, seed));

    public static ModelWeights PerturbedWeights(ModelWeights target, float noise, int seed)
    {
        var copy = ModelWeights.Allocate(target.Config);
        var rng = new Random(seed);
        foreach (var ((_, from, _), (_, to, _)) in target.Parameters().Zip(copy.Parameters()))
            for (int i = 0; i < from.Length; i++) to[i] = from[i] + noise * ModelWeights.Gaussian(rng);
        return copy;
    }

    /// <summary>
    /// A GPT-2 draft whose argmax is always token: its final LayerNorm has zero gain, so the hidden
    /// state is the bias, set to that token's (enlarged) embedding; by Cauchy-Schwarz no other
    /// tied-embedding row scores higher.
    /// </summary>
    public static Transformer FixedArgmax(int vocab, int token, int seed)
    {
        var config = TinyModels.Gpt2(vocab);
        var w = ModelWeights.Random(config, seed, std: 0.2f);
        int d = config.HiddenSize;
        var row = w.Embedding.AsSpan(token * d, d);
        foreach (ref float x in row) x *= 10f;
        Array.Clear(w.FinalNorm);
        row.CopyTo(w.FinalNormBias);
        return Create(config, w);
    }
}
