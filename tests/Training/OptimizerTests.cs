using DistillSpec.Models;
using DistillSpec.Tests.Models;
using DistillSpec.Tests.SafeTensors;
using DistillSpec.Training;

namespace DistillSpec.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void AdamWMatchesTheUpdateComputedByHand()
    {
        var config = TinyModels.Llama(kvHeads: 2);
        var weights = ModelWeights.Random(config, seed: 1, std: 0.5f);
        var gradients = ModelWeights.Random(config, seed: 2, std: 1f);
        var settings = new OptimizerSettings { LearningRate = 0.01f, WeightDecay = 0.1f, Beta1 = 0.9f, Beta2 = 0.95f, Epsilon = 1e-8f };
        var adam = new AdamW(config, settings);
        var before = weights.Parameters().ToDictionary(p => p.Name, p => (float[])p.Data.Clone());

        // Two steps with the same gradient: m and v after step t are (1 - b^t) g and (1 - b^t) g^2,
        // so bias correction makes every update lr * (g / (|g| + eps') + wd * w).
        adam.Update(weights, gradients, 0.01f);
        adam.Update(weights, gradients, 0.005f);
        Assert.Equal(2, adam.Step);

        var grads = gradients.Parameters().ToDictionary(p => p.Name, p => p.Data);
        foreach (var (name, w, kind) in weights.Parameters())
        {
            double decay = kind == ParameterKind.Matrix ? 0.1 : 0;
            for (int i = 0; i < w.Length; i += 7)
            {
                double g = grads[name][i], x = before[name][i];
                double m1 = 0.1 * g, v1 = 0.05 * g * g;
                x -= 0.01 * (m1 / 0.1 / (Math.Sqrt(v1 / 0.05) + 1e-8) + decay * x);
                double m2 = 0.9 * m1 + 0.1 * g, v2 = 0.95 * v1 + 0.05 * g * g;
                x -= 0.005 * (m2 / (1 - 0.81) / (Math.Sqrt(v2 / (1 - 0.9025)) + 1e-8) + decay * x);
                Assert.True(Math.Abs(x - w[i]) < 1e-6, $"{name}[{i}]: expected {x}, got {w[i]}");
            }
        }
    }

    [Fact]
    public void NormsAndBiasesAreNotDecayed()
    {
        var config = TinyModels.Llama(kvHeads: 1, tied: true, name: "Qwen2ForCausalLM");
        var weights = ModelWeights.Random(config, seed: 3);
        var zero = ModelWeights.Allocate(config);
        var before = weights.Parameters().ToDictionary(p => p.Name, p => (float[])p.Data.Clone());
        new AdamW(config, new OptimizerSettings { WeightDecay = 0.5f }).Update(weights, zero, 0.1f);
        foreach (var (name, w, kind) in weights.Parameters())
        {
            if (kind == ParameterKind.Matrix) Assert.Equal(before[name][0] * (1 - 0.05f), w[0], 6);
            else Assert.Equal(before[name], w);
        }
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenFollowsACosineToTheFloor()
    {
        var o = new OptimizerSettings { LearningRate = 1f, MinLearningRateRatio = 0.1f, WarmupSteps = 4 };
        Assert.Equal(0.25f, LearningRateSchedule.At(o, 0, 14), 6);
        Assert.Equal(0.75f, LearningRateSchedule.At(o, 2, 14), 6);
        Assert.Equal(1f, LearningRateSchedule.At(o, 4, 14), 6);
        // Decay runs over steps 4..13: halfway (step 8.5) would be the mean of peak and floor.
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI * 3 / 9)), LearningRateSchedule.At(o, 7, 14), 5);
        Assert.Equal(0.1f, LearningRateSchedule.At(o, 13, 14), 6);
        Assert.Equal(1f, LearningRateSchedule.At(o with { WarmupSteps = 0 }, 0, 1), 6);
    }

    [Fact]
    public void ClippingScalesTheGlobalNormDownButNeverUp()
    {
        var config = TinyModels.Llama();
        var g = ModelWeights.Random(config, seed: 4, std: 1f);
        double Norm() => Math.Sqrt(g.Parameters().Sum(p => p.Data.Sum(x => (double)x * x)));
        double before = Norm();
        Assert.Equal(before, GradientClipping.ClipGlobalNorm(g, 0f), 2);
        Assert.Equal(before, Norm(), 6);
        Assert.Equal(before, GradientClipping.ClipGlobalNorm(g, (float)before * 2), 2);
        Assert.Equal(before, Norm(), 6);
        GradientClipping.ClipGlobalNorm(g, 1f);
        Assert.Equal(1, Norm(), 4);
    }

    [Fact]
    public void OptimizerStateRoundTripsThroughSafeTensors()
    {
        var config = TinyModels.Llama();
        var adam = new AdamW(config, new OptimizerSettings());
        var weights = ModelWeights.Random(config, 1);
        adam.Update(weights, ModelWeights.Random(config, 2), 0.1f);
        using var dir = new TempDirectory();
        adam.Save(dir.File("opt.safetensors"));
        var loaded = new AdamW(config, new OptimizerSettings());
        loaded.Load(dir.File("opt.safetensors"));
        Assert.Equal(1, loaded.Step);
        Assert.Equal(adam.M.Parameters().Select(p => p.Data), loaded.M.Parameters().Select(p => p.Data));
        Assert.Equal(adam.V.Parameters().Select(p => p.Data), loaded.V.Parameters().Select(p => p.Data));
    }
}
