using System.Numerics.Tensors;
using DistillSpec.Models;
using DistillSpec.Sampling;

namespace DistillSpec.Training;

/// <summary>
/// Fills the continuation part of prompt windows with tokens sampled from an inference
/// Transformer (KV cache, one token per step) at a temperature (0 = greedy). Draws come from a
/// TrainingRng so a resumed run samples the same tokens. No gradient flows through sampling.
/// </summary>
public static class ContinuationSampler
{
    /// <param name="sequences">(count, promptLength + continuationLength); positions from promptLength on are overwritten</param>
    public static void Sample(Transformer model, int[] sequences, int count, int promptLength, int continuationLength, float temperature, TrainingRng rng)
    {
        int length = promptLength + continuationLength, v = model.VocabSize;
        var logits = new float[v];
        var probabilities = new float[v];
        using var cache = model.CreateCache(length);
        for (int s = 0; s < count; s++)
        {
            var sequence = sequences.AsSpan(s * length, length);
            cache.Clear();
            model.Forward(sequence[..promptLength], 0, cache, logits);
            for (int i = 0; i < continuationLength; i++)
            {
                int next;
                if (temperature < Sampling.SamplingSettings.GreedyBelow) next = TensorPrimitives.IndexOfMax(logits);
                else
                {
                    TensorPrimitives.Divide(logits, temperature, probabilities);
                    Numerics.Softmax.Stable(probabilities, probabilities);
                    next = Sampler.Draw(probabilities, rng.NextDouble());
                }
                sequence[promptLength + i] = next;
                if (i + 1 < continuationLength) model.Forward(sequence.Slice(promptLength + i, 1), promptLength + i, cache, logits);
            }
        }
    }
}
