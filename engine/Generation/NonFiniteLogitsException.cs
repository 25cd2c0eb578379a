using System.Numerics.Tensors;

namespace DistillSpec.Generation;

/// <summary>
/// A forward pass produced NaN or infinite logits: decoding from them would print garbage (argmax
/// of NaNs is token 0) and report made-up acceptance rates, so every decoder stops here instead.
/// The usual causes are corrupt weights or a broken config; a load with ModelLoadOptions.ScanWeights
/// (the CLI's --check-weights) names the tensor.
/// </summary>
/// <param name="value">the offending logit, when the caller saw it (a device verifier only reports that there was one)</param>
public sealed class NonFiniteLogitsException(string model, int position, float? value)
    : Exception($"the {model} produced a non-finite logit{(value is float v ? $" ({Describe(v)})" : "")} at position {position}; its weights or config.json are broken " +
                "(--check-weights scans the weights for NaN and Inf at load)")
{
    public int Position { get; } = position;

    /// <summary>Throws when logits (vocab) hold a NaN or an infinity; two vector passes, small beside the forward pass.</summary>
    public static void ThrowIfAny(ReadOnlySpan<float> logits, string model, int position)
    {
        // Max and Min return NaN when any element is NaN, and +-Inf when one is infinite.
        float max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max)) throw new NonFiniteLogitsException(model, position, max);
        float min = TensorPrimitives.Min(logits);
        if (!float.IsFinite(min)) throw new NonFiniteLogitsException(model, position, min);
    }

    /// <summary>NaN, +Inf or -Inf, spelled the same under every culture (invariant culture writes infinity as a symbol).</summary>
    public static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";

    /// <summary>ThrowIfAny for each of rows consecutive (vocab) rows, the first at position start.</summary>
    public static void ThrowIfAny(ReadOnlySpan<float> logits, int vocab, string model, int start)
    {
        for (int i = 0; i * vocab < logits.Length; i++) ThrowIfAny(logits.Slice(i * vocab, vocab), model, start + i);
    }
}
