using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Tests.Models;
using Xunit.Abstractions;

namespace DistillSpec.Tests.Speculative;

/// <summary>
/// Sampling through speculative decoding must reproduce the target's own distribution. With an
/// 8-token vocabulary the first two tokens have K = 64 outcomes whose exact probabilities come from
/// enumerating the target.
/// </summary>
public class LosslessnessTests(ITestOutputHelper output)
{
    private const int Vocab = 8, Runs = 10_000;
    private static readonly ModelConfig Config = TinyModels.Llama(vocab: Vocab);
    private static readonly int[] Prompt = [3];
    private static readonly ModelWeights TargetWeights = ModelWeights.Random(Config, seed: 1, std: 0.5f);

    // How far N exact samples stray: E|count/N - p| <= min(sqrt(p(1-p)/N), 2p(1-p)) per outcome
    // (Jensen, and the mean absolute deviation of one Bernoulli), so E[TVD] is at most half their
    // sum. One sample moves TVD by at most 1/N, so by McDiarmid it exceeds that mean by
    // sqrt(ln(1e4) / 2N) = 0.021 with probability <= 1e-4.
    private static double Threshold(double[] exact) =>
        0.5 * exact.Sum(p => Math.Min(Math.Sqrt(p * (1 - p) / Runs), 2 * p * (1 - p))) + Math.Sqrt(Math.Log(1e4) / (2.0 * Runs));

    [Theory]
    [InlineData(1, 2, 0)]   // one draft, so the second token is often the bonus from p_{gamma+1}
    [InlineData(2, 3, 3)]   // first two of three tokens: residuals at position 2 as well as 1; top-k on p and q
    public void TwoTokenDistributionMatchesTheTarget(int gamma, int generate, int topK)
    {
        var settings = new SamplingSettings { Temperature = 1f, TopK = topK };
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Perturbed(TargetWeights, noise: 0.1f, seed: 2);
        var exact = ExactTwoTokenDistribution(target, settings);
        // Sampling the draft's own distribution instead would fail by a wide margin.
        Assert.True(Tvd(exact, ExactTwoTokenDistribution(draft, settings)) > 3 * Threshold(exact), "draft too close to the target for the test to mean anything");

        using var decoder = new SpeculativeDecoder(target, draft, settings, new SpeculativeOptions { DraftMax = gamma }, seed: 7);
        var counts = new double[Vocab * Vocab];
        var stats = new List<SpeculativeStats>(Runs);
        for (int r = 0; r < Runs; r++)
        {
            var result = decoder.Generate(Prompt, generate);
            counts[result.Tokens[0] * Vocab + result.Tokens[1]]++;
            stats.Add(result.Stats);
        }
        double tvd = Tvd(exact, counts.Select(c => c / Runs).ToArray());
        var combined = SpeculativeStats.Combine(stats);
        output.WriteLine($"TVD {tvd:F4}, threshold {Threshold(exact):F4}, draft-vs-target TVD {Tvd(exact, ExactTwoTokenDistribution(draft, settings)):F4}, acceptance {combined.EmpiricalAcceptance:F3}");
        Assert.True(tvd < Threshold(exact), $"TVD {tvd:F4} >= {Threshold(exact):F4}");
        Assert.InRange(combined.EmpiricalAcceptance, 0.1, 0.95);
    }

    [Fact]
    public void LenienceBelowOneAcceptsMore()
    {
        var settings = new SamplingSettings { Temperature = 1f };
        using var target = DraftModels.Create(Config, TargetWeights);
        using var draft = DraftModels.Perturbed(TargetWeights, noise: 0.1f, seed: 2);
        double Acceptance(float lenience)
        {
            using var decoder = new SpeculativeDecoder(target, draft, settings, new SpeculativeOptions { DraftMax = 3, Lenience = lenience }, seed: 3);
            return SpeculativeStats.Combine(Enumerable.Range(0, 150).Select(_ => decoder.Generate(Prompt, 8).Stats).ToList()).EmpiricalAcceptance;
        }
        double lossless = Acceptance(1f), lenient = Acceptance(0.5f), veryLenient = Acceptance(0.1f);
        output.WriteLine($"acceptance at eps 1, 0.5, 0.1: {lossless:F3} {lenient:F3} {veryLenient:F3}");
        Assert.True(lossless + 0.05 < lenient && lenient + 0.05 < veryLenient, $"{lossless:F3} {lenient:F3} {veryLenient:F3}");
    }

    // P(a, b) = p(a | prompt) p(b | prompt, a), under the same transform the decoder applies.
    private static double[] ExactTwoTokenDistribution(Transformer model, SamplingSettings settings)
    {
        var sampler = new Sampler(settings, Vocab, 0);
        var logits = new float[Vocab];
        var first = new float[Vocab];
        var second = new float[Vocab];
        using var cache = model.CreateCache();
        model.Forward(Prompt, 0, cache, logits);
        sampler.Distribution(logits, first);
        var joint = new double[Vocab * Vocab];
        for (int a = 0; a < Vocab; a++)
        {
            model.Forward([a], Prompt.Length, cache, logits);
            sampler.Distribution(logits, second);
            for (int b = 0; b < Vocab; b++) joint[a * Vocab + b] = (double)first[a] * second[b];
        }
        return joint;
    }

    private static double Tvd(double[] p, double[] q) => 0.5 * p.Zip(q, (x, y) => Math.Abs(x - y)).Sum();
}
