using System.Diagnostics;
using DistillSpec.Models;
using DistillSpec.Training;

namespace DistillSpec.Bench;

internal static class TrainingStepTiming
{
    /// <summary>
    /// Seconds of the fastest of `steps` training steps (zero gradients, forward, cross-entropy,
    /// backward; no optimizer update) on batch windows of seqLen fixed pseudo-random tokens.
    /// </summary>
    public static double BestSeconds(ModelWeights weights, int batch, int seqLen, int threads, int steps = 3)
    {
        using var model = new TrainingModel(weights, batch, seqLen, threads);
        int vocab = weights.Config.VocabSize;
        var inputs = new int[batch * seqLen];
        var targets = new int[batch * seqLen];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (int)((i * 7919L) % vocab);
            targets[i] = (int)(((i + 1) * 7919L) % vocab);
        }
        double best = double.MaxValue;
        for (int step = 0; step < steps; step++)
        {
            var clock = Stopwatch.StartNew();
            model.ZeroGradients();
            model.Forward(inputs, batch, seqLen);
            model.CrossEntropy(targets);
            model.Backward();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
