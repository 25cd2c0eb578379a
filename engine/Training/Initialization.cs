using DistillSpec.Models;

namespace DistillSpec.Training;

public static class Initialization
{
    /// <summary>
    /// GPT-2-style seeded initialisation: matrices N(0, std), the two projections that write into
    /// the residual stream (o_proj, down_proj) scaled by 1/sqrt(2 * layers) so the stream's
    /// variance does not grow with depth, norm gains 1, biases 0.
    /// </summary>
    public static ModelWeights Random(ModelConfig config, ulong seed, float std = 0.02f)
    {
        var w = ModelWeights.Allocate(config);
        var rng = new TrainingRng(seed);
        float residualStd = std / MathF.Sqrt(2f * config.Layers);
        foreach (var (name, data, kind) in w.Parameters())
        {
            float s = name.EndsWith(".output", StringComparison.Ordinal) || name.EndsWith(".down", StringComparison.Ordinal) ? residualStd : std;
            for (int i = 0; i < data.Length; i++)
                data[i] = kind switch { ParameterKind.Gain => 1f, ParameterKind.Bias => 0f, _ => s * rng.NextGaussian() };
        }
        return w;
    }
}

public static class TrainingFlops
{
    /// <summary>Parameters that take part in matrix products (every layer's projections and the output head).</summary>
    public static long MatMulParameters(ModelConfig c)
    {
        long d = c.HiddenSize, f = c.IntermediateSize;
        long perLayer = d * c.QDim * 2 + d * c.KvDim * 2 + 3 * d * f;
        return c.Layers * perLayer + (long)c.VocabSize * d;
    }

    /// <summary>
    /// FLOPs of one training step (forward + backward) on batch x seqLen tokens: 6 per matmul
    /// parameter per token, plus causal attention (q·k and p·v over T(T+1)/2 pairs, 2 FLOPs per
    /// multiply-add, forward once and backward twice).
    /// </summary>
    public static double TrainingStep(ModelConfig c, int batch, int seqLen)
    {
        double tokens = (double)batch * seqLen;
        double attentionForward = 2.0 * 2.0 * c.Layers * c.Heads * c.HeadDim * (seqLen * (seqLen + 1) / 2.0) * batch;
        return 6.0 * MatMulParameters(c) * tokens + 3.0 * attentionForward;
    }

    /// <summary>FLOPs of a forward pass alone (a frozen teacher's share of a distillation step).</summary>
    public static double Forward(ModelConfig c, int batch, int seqLen) => TrainingStep(c, batch, seqLen) / 3.0;
}
