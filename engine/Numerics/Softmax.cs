using System.Numerics.Tensors;

namespace DistillSpec.Numerics;

public static class Softmax
{
    /// <summary>
    /// y = exp(x - max x) / sum. TensorPrimitives.SoftMax does not subtract the max, so logits
    /// above ~88 overflow exp to infinity and the result becomes NaN.
    /// </summary>
    public static void Stable(ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
    }
}
