using DistillSpec.Backends;
using DistillSpec.Models;

namespace DistillSpec.Bench;

/// <summary>
/// Bytes each kernel must move through device memory in one decode step (one token at position
/// `position`), from the model's shapes: the numerator of a kernel's achieved bandwidth. Counts
/// every weight, cache row and activation read or written once, as a perfect kernel would.
/// </summary>
internal static class DecodeTraffic
{
    /// <summary>Kernel name (as IlgpuBackend records it) to bytes, for a Llama-family model.</summary>
    public static Dictionary<string, double> Step(ModelConfig c, WeightFormat format, int position)
    {
        double w = WeightFormats.BytesPerWeight(format);
        int d = c.HiddenSize, f = c.IntermediateSize, layers = c.Layers;
        // (out, in): weights, then x in and y out; a bias is one more read of out floats.
        double Matrix(int outDim, int inDim, bool bias) => outDim * (double)inDim * w + 4.0 * (inDim + outDim + (bias ? outDim : 0));
        double perLayer = Matrix(c.QDim, d, c.AttentionBias) + 2 * Matrix(c.KvDim, d, c.AttentionBias) + Matrix(d, c.QDim, false)
            + 2 * Matrix(f, d, false) + Matrix(d, f, false);
        int context = position + 1;
        return new Dictionary<string, double>
        {
            ["MatVec"] = layers * perLayer + Matrix(c.VocabSize, d, false),
            ["Attention"] = layers * (2.0 * context * c.KvDim * 4 + 2.0 * c.QDim * 4),
            ["RmsNorm"] = (2 * layers + 1) * 3.0 * d * 4,
            ["Rope"] = layers * 2.0 * (c.QDim + c.KvDim) * 4,
            ["CopyRows"] = layers * 2 * 2.0 * c.KvDim * 4,
            ["SwiGlu"] = layers * 3.0 * f * 4,
            ["Add"] = layers * 2 * 3.0 * d * 4,
            ["Embed"] = d * w + d * 4.0,
            ["Argmax"] = c.VocabSize * 4.0,
        };
    }
}
