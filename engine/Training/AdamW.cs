using System.Runtime.Intrinsics;
using DistillSpec.Models;
using DistillSpec.SafeTensors;

namespace DistillSpec.Training;

public sealed record OptimizerSettings
{
    public float LearningRate { get; init; } = 3e-4f;
    /// <summary>The cosine schedule's floor, as a fraction of LearningRate.</summary>
    public float MinLearningRateRatio { get; init; } = 0.1f;
    public int WarmupSteps { get; init; } = 0;
    public float WeightDecay { get; init; } = 0.1f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.95f;
    public float Epsilon { get; init; } = 1e-8f;
    /// <summary>Global gradient-norm cap; 0 turns clipping off.</summary>
    public float ClipNorm { get; init; } = 1f;

    public OptimizerSettings Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "learning rate must be positive");
        if (!(MinLearningRateRatio >= 0 && MinLearningRateRatio <= 1)) throw new ArgumentOutOfRangeException(nameof(MinLearningRateRatio), MinLearningRateRatio, "must lie in [0, 1]");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "must be >= 0");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be >= 0");
        if (!(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), "Adam betas must lie in [0, 1)");
        if (!(ClipNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "must be >= 0 (0 = off)");
        return this;
    }
}

public static class LearningRateSchedule
{
    /// <summary>
    /// The rate for 0-based step s of totalSteps: linear warmup to the peak over the first
    /// WarmupSteps steps ((s + 1) / warmup, so step 0 is not wasted at 0), then a cosine from the
    /// peak down to MinLearningRateRatio * peak at the last step.
    /// </summary>
    public static float At(OptimizerSettings o, int step, int totalSteps)
    {
        float peak = o.LearningRate, floor = peak * o.MinLearningRateRatio;
        if (step < o.WarmupSteps) return peak * (step + 1) / o.WarmupSteps;
        int decaySteps = totalSteps - o.WarmupSteps - 1;
        if (decaySteps <= 0) return peak;
        double progress = Math.Min(1.0, (double)(step - o.WarmupSteps) / decaySteps);
        return (float)(floor + 0.5 * (peak - floor) * (1 + Math.Cos(Math.PI * progress)));
    }
}

public static class GradientClipping
{
    /// <summary>Global L2 norm of every gradient; when above maxNorm (> 0) all are scaled to maxNorm. Returns the norm before clipping.</summary>
    public static float ClipGlobalNorm(ModelWeights gradients, float maxNorm)
    {
        double sum = 0;
        foreach (var (_, g, _) in gradients.Parameters())
            foreach (float x in g) sum += (double)x * x;
        float norm = (float)Math.Sqrt(sum);
        if (maxNorm > 0 && norm > maxNorm)
        {
            float scale = maxNorm / (norm + 1e-6f);
            foreach (var (_, g, _) in gradients.Parameters())
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, g);
        }
        return norm;
    }
}

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter): w -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * w).
/// Decay applies to matrices (embeddings included), never to norm gains or biases. The moments
/// mirror ModelWeights so they save under the same names as the weights.
/// </summary>
public sealed class AdamW
{
    public AdamW(ModelConfig config, OptimizerSettings settings)
    {
        Settings = settings.Validate();
        M = ModelWeights.Allocate(config);
        V = ModelWeights.Allocate(config);
    }

    public OptimizerSettings Settings { get; }
    public ModelWeights M { get; }
    public ModelWeights V { get; }

    /// <summary>Updates taken so far (bias correction uses Step after the increment).</summary>
    public int Step { get; set; }

    public void Update(ModelWeights weights, ModelWeights gradients, float learningRate)
    {
        Step++;
        float b1 = Settings.Beta1, b2 = Settings.Beta2, eps = Settings.Epsilon;
        float c1 = 1f / (1f - MathF.Pow(b1, Step)), c2 = 1f / (1f - MathF.Pow(b2, Step));
        using var w = weights.Parameters().GetEnumerator();
        using var g = gradients.Parameters().GetEnumerator();
        using var m = M.Parameters().GetEnumerator();
        using var v = V.Parameters().GetEnumerator();
        while (w.MoveNext() && g.MoveNext() && m.MoveNext() && v.MoveNext())
        {
            float decay = w.Current.Kind == ParameterKind.Matrix ? Settings.WeightDecay : 0f;
            float[] ws = w.Current.Data, gs = g.Current.Data, ms = m.Current.Data, vs = v.Current.Data;
            int i = UpdateVectorized(ws, gs, ms, vs, learningRate, decay, c1, c2);
            for (; i < ws.Length; i++)
            {
                float gi = gs[i];
                float mi = ms[i] = b1 * ms[i] + (1 - b1) * gi;
                float vi = vs[i] = b2 * vs[i] + (1 - b2) * gi * gi;
                ws[i] -= learningRate * (mi * c1 / (MathF.Sqrt(vi * c2) + eps) + decay * ws[i]);
            }
        }
    }

    // The scalar update, eight lanes at a time, with the same operations in the same order (no fused
    // multiply-adds), so every element is bit-identical to the scalar loop. Returns where it stopped.
    private int UpdateVectorized(float[] ws, float[] gs, float[] ms, float[] vs, float lr, float decay, float c1, float c2)
    {
        float b1 = Settings.Beta1, b2 = Settings.Beta2;
        Vector256<float> vb1 = Vector256.Create(b1), vb2 = Vector256.Create(b2), va1 = Vector256.Create(1 - b1), va2 = Vector256.Create(1 - b2);
        Vector256<float> vc1 = Vector256.Create(c1), vc2 = Vector256.Create(c2), veps = Vector256.Create(Settings.Epsilon);
        Vector256<float> vlr = Vector256.Create(lr), vdecay = Vector256.Create(decay);
        int i = 0;
        for (; i + 8 <= ws.Length; i += 8)
        {
            var g = Vector256.Create(gs.AsSpan(i, 8));
            var m = vb1 * Vector256.Create(ms.AsSpan(i, 8)) + va1 * g;
            var v = vb2 * Vector256.Create(vs.AsSpan(i, 8)) + va2 * g * g;
            var w = Vector256.Create(ws.AsSpan(i, 8));
            w -= vlr * (m * vc1 / (Vector256.Sqrt(v * vc2) + veps) + vdecay * w);
            m.CopyTo(ms.AsSpan(i, 8));
            v.CopyTo(vs.AsSpan(i, 8));
            w.CopyTo(ws.AsSpan(i, 8));
        }
        return i;
    }

    public void Save(string path)
    {
        var writer = new SafeTensorsWriter().Metadata("step", Step.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, data, _) in M.Parameters()) writer.Add("m." + name, data, [data.Length]);
        foreach (var (name, data, _) in V.Parameters()) writer.Add("v." + name, data, [data.Length]);
        writer.Save(path);
    }

    public void Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        foreach (var (prefix, moments) in new[] { ("m.", M), ("v.", V) })
            foreach (var (name, data, _) in moments.Parameters())
            {
                if (!file.Contains(prefix + name)) throw new FormatException($"{path}: optimizer state lacks '{prefix + name}'");
                file.ReadFloat32(prefix + name, data);
            }
        Step = int.Parse(file.Metadata["step"], System.Globalization.CultureInfo.InvariantCulture);
    }
}
