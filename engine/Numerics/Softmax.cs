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

    /// <summary>output = log softmax(logits / temperature), in double: what divergences and likelihoods need.</summary>
    public static void Log(ReadOnlySpan<float> logits, float temperature, Span<double> output)
    {
        double max = double.NegativeInfinity;
        foreach (float z in logits) max = Math.Max(max, z / (double)temperature);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += Math.Exp(logits[i] / (double)temperature - max);
        double logZ = max + Math.Log(sum);
        for (int i = 0; i < logits.Length; i++) output[i] = logits[i] / (double)temperature - logZ;
    }
}
