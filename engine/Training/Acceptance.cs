using System.Numerics.Tensors;

namespace DistillSpec.Training;

/// <summary>Per-position acceptance of a draft q against a target p, from their logits.</summary>
public static class Acceptance
{
    /// <summary>beta = sum_y min(p(y), q(y)) = 1 - TVD(p, q) at temperature 1; work holds 2 * vocab floats.</summary>
    public static double Overlap(ReadOnlySpan<float> targetLogits, ReadOnlySpan<float> draftLogits, Span<float> work)
    {
        int v = targetLogits.Length;
        var p = work[..v];
        var q = work.Slice(v, v);
        Numerics.Softmax.Stable(targetLogits, p);
        Numerics.Softmax.Stable(draftLogits, q);
        TensorPrimitives.Min(p, q, p);
        return TensorPrimitives.Sum(p);
    }

    /// <summary>Greedy (T = 0) acceptance of one position: 1 when both argmaxes agree.</summary>
    public static bool ArgmaxAgrees(ReadOnlySpan<float> targetLogits, ReadOnlySpan<float> draftLogits) =>
        TensorPrimitives.IndexOfMax(targetLogits) == TensorPrimitives.IndexOfMax(draftLogits);
}
