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
        double total = 0;
        for (int j = 0; j < continuation.Length; j++)
        {
            var row = logits.AsSpan((prompt.Length - 1 + j) * v, v);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float x in row) max = Math.Max(max, x);
            foreach (float x in row) sum += Math.Exp(x - max);
            total += max + Math.Log(sum) - row[continuation[j]];
        }
        return total / continuation.Length;
    }
}
