using DistillSpec.Models;

namespace DistillSpec.Generation;

public static class SequenceScore
{
    /// <summary>
    /// Mean negative log-likelihood (nats per token) of continuation after prompt under the model's
    /// own distribution (temperature 1): the quality measure for lossy speculative decoding.
    /// </summary>
    public static double MeanNegativeLogLikelihood(Transformer model, ReadOnlySpan<int> prompt, ReadOnlySpan<int> continuation)
    {
        if (prompt.Length == 0 || continuation.Length == 0) throw new ArgumentException("prompt and continuation must both be non-empty");
        int[] sequence = [.. prompt, .. continuation[..^1]];
        int v = model.VocabSize;
        var logits = new float[sequence.Length * v];
        using var cache = model.CreateCache(sequence.Length);
        model.Forward(sequence, 0, cache, logits);
        var logProbabilities = new double[v];
        double total = 0;
        for (int j = 0; j < continuation.Length; j++)
        {
            Numerics.Softmax.Log(logits.AsSpan((prompt.Length - 1 + j) * v, v), 1f, logProbabilities);
            total -= logProbabilities[continuation[j]];
        }
        return total / continuation.Length;
    }
}
