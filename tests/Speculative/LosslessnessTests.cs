using DistillSpec.Models;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Tests.Models;
using Xunit.Abstractions;

namespace DistillSpec.Tests.Speculative;

/// <summary>
/// Sampling through speculative decoding must reproduce the target's own distribution. The first
/// tokens' joint distribution is enumerated exactly (tiny vocabularies) and the speculative
/// samples are scored against it with Pearson's chi-square test (ChiSquare) at a strict level:
/// with fixed seeds the verdicts are deterministic, and a correct sampler fails a test at that
/// level with probability Alpha. The same statistic must reject a verifier that reuses the
/// rejecting uniform for the replacement, and lenience 0.9, so the test is known to have the
/// power to see faults of that size.
/// </summary>
public class LosslessnessTests(ITestOutputHelper output)
{
    private const double Alpha = 1e-6;

    // Logit tables: target and draft logits for every context of up to Depth generated tokens,
    // V-ary tree indexed (root 0 = the empty context, child(c, y) = c V + 1 + y), so a speculative
    // round reads its rows instead of running a model, and 10^5 runs take a fraction of a second.
    private const int V = 5, Length = 3, Runs = 100_000, MaxGamma = 3, Depth = Length - 1 + MaxGamma;

    private static readonly (float[] Target, float[] Draft) Logits = LogitTables(seed: 4);

    private delegate Verdict VerifyRule(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted, Span<double> uniforms,
        Span<float> residual);

    public static TheoryData<string> Settings => new() { "T=1 gamma 2", "T=0.7 top-k 3 gamma 3", "T=1 top-p 0.8 gamma 2", "T=1 top-k 4 top-p 0.7 gamma 1" };

    private static (SamplingSettings Settings, int Gamma) Named(string name) => name switch
    {
        "T=1 gamma 2" => (new SamplingSettings { Temperature = 1f }, 2),
        "T=0.7 top-k 3 gamma 3" => (new SamplingSettings { Temperature = 0.7f, TopK = 3 }, 3),
        "T=1 top-p 0.8 gamma 2" => (new SamplingSettings { Temperature = 1f, TopP = 0.8f }, 2),
        "T=1 top-k 4 top-p 0.7 gamma 1" => (new SamplingSettings { Temperature = 1f, TopK = 4, TopP = 0.7f }, 1),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Settings))]
    public void FirstTokensFollowTheTargetExactly(string name)
    {
        var (settings, gamma) = Named(name);
        var (p, q) = Distributions(settings);
        var exact = Joint(p);
        var fit = ChiSquare.Test(exact, Sample(p, q, gamma, Lossless, seed: 7));
        output.WriteLine($"{name}: {fit}");
        Assert.True(fit.PValue > Alpha, $"{name}: {fit}");
    }

    [Fact]
    public void TheStatisticRejectsAReplacementDrawnWithTheRejectingUniform()
    {
        var (p, q) = Distributions(Named("T=1 gamma 2").Settings);
        var fit = ChiSquare.Test(Joint(p), Sample(p, q, 2, ReplacementWithTheRejectingUniform, seed: 7));
        output.WriteLine($"rejecting uniform reused: {fit}");
        Assert.True(fit.PValue < Alpha, fit.ToString());
    }

    [Theory]
    [InlineData(LenienceFunction.Linear)]
    [InlineData(LenienceFunction.Squared)]
    [InlineData(LenienceFunction.Exponential)]
    public void TheStatisticRejectsLenience(LenienceFunction function)
    {
        var (p, q) = Distributions(Named("T=1 gamma 2").Settings);
        var fit = ChiSquare.Test(Joint(p), Sample(p, q, 2, (pi, qi, d, u, r) => Verifier.Verify(pi, qi, d, u, 0.9f, function, r), seed: 7));
        output.WriteLine($"lenience 0.9, {function}: {fit}");
        Assert.True(fit.PValue < Alpha, fit.ToString());
    }

    [Fact]
    public void ChiSquareSurvivalMatchesClosedFormsAndTables()
    {
        foreach (double x in new[] { 0.1, 1, 5, 20, 80 })
        {
            Assert.Equal(Math.Exp(-x / 2), ChiSquare.Survival(x, 2), 1e-12);
            Assert.Equal(Math.Exp(-x / 2) * (1 + x / 2), ChiSquare.Survival(x, 4), 1e-12);
        }
        // Upper 5% and 0.1% points from the standard tables.
        Assert.Equal(0.05, ChiSquare.Survival(18.307, 10), 1e-4);
        Assert.Equal(0.05, ChiSquare.Survival(124.342, 100), 1e-4);
        Assert.Equal(0.001, ChiSquare.Survival(10.828, 1), 1e-5);
        // Sparse cells are pooled until they expect 5: of [0.5, 0.3, 0.17, 0.02, 0.01] x 100 the last three pool into one.
        var fit = ChiSquare.Test([0.5, 0.3, 0.17, 0.02, 0.01], [50, 30, 17, 2, 1]);
        Assert.Equal((0.0, 3, 2), (fit.Statistic, fit.Cells, fit.DegreesOfFreedom));
        Assert.Equal(1, ChiSquare.Test([0.5, 0.5, 0], [5, 4, 1]).ImpossibleSeen);
    }

    // Through the whole decoder: tiny transformers, KV caches rolled back after rejections. Fewer
    // runs than above (a forward pass per token), so this catches wiring faults, not subtle ones.
    [Theory]
    [InlineData(1, 2, 0)]   // one draft, so the second token is often the bonus from p_{gamma+1}
    [InlineData(2, 3, 3)]   // first two of three tokens: residuals at position 2 as well as 1; top-k on p and q
    public void TheDecodersFirstTwoTokensFollowTheTarget(int gamma, int generate, int topK)
    {
        const int vocab = 8, runs = 10_000;
        var config = TinyModels.Llama(vocab: vocab);
        int[] prompt = [3];
        var targetWeights = ModelWeights.Random(config, seed: 1, std: 0.5f);
        var settings = new SamplingSettings { Temperature = 1f, TopK = topK };
        using var target = DraftModels.Create(config, targetWeights);
        using var draft = DraftModels.Perturbed(targetWeights, noise: 0.1f, seed: 2);
        var exact = TwoTokenDistribution(target, settings, prompt, vocab);

        using var decoder = new SpeculativeDecoder(target, draft, settings, new SpeculativeOptions { DraftMax = gamma }, seed: 7);
        var counts = new long[vocab * vocab];
        var stats = new List<SpeculativeStats>(runs);
        for (int r = 0; r < runs; r++)
        {
            var result = decoder.Generate(prompt, generate);
            counts[result.Tokens[0] * vocab + result.Tokens[1]]++;
            stats.Add(result.Stats);
        }
        var fit = ChiSquare.Test(exact, counts);
        var draftCounts = TwoTokenDistribution(draft, settings, prompt, vocab).Select(x => (long)Math.Round(x * runs)).ToArray();
        var combined = SpeculativeStats.Combine(stats);
        output.WriteLine($"{fit}; the draft's own expected counts score {ChiSquare.Test(exact, draftCounts)}; acceptance {combined.EmpiricalAcceptance:F3}");
        Assert.True(fit.PValue > Alpha, fit.ToString());
        // Sampling the draft instead would fail by a wide margin, and drafts are both accepted and rejected.
        Assert.True(ChiSquare.Test(exact, draftCounts).PValue < Alpha, "draft too close to the target for the test to mean anything");
        Assert.InRange(combined.EmpiricalAcceptance, 0.1, 0.95);
    }

    [Fact]
    public void LenienceBelowOneAcceptsMore()
    {
        var config = TinyModels.Llama(vocab: 8);
        var targetWeights = ModelWeights.Random(config, seed: 1, std: 0.5f);
        var settings = new SamplingSettings { Temperature = 1f };
        using var target = DraftModels.Create(config, targetWeights);
        using var draft = DraftModels.Perturbed(targetWeights, noise: 0.1f, seed: 2);
        double Acceptance(float lenience, LenienceFunction function)
        {
            var options = new SpeculativeOptions { DraftMax = 3, Lenience = lenience, LenienceFunction = function };
            using var decoder = new SpeculativeDecoder(target, draft, settings, options, seed: 3);
            return SpeculativeStats.Combine(Enumerable.Range(0, 150).Select(_ => decoder.Generate([3], 8).Stats).ToList()).EmpiricalAcceptance;
        }
        double lossless = Acceptance(1f, LenienceFunction.Linear), lenient = Acceptance(0.5f, LenienceFunction.Linear),
            veryLenient = Acceptance(0.1f, LenienceFunction.Linear), squared = Acceptance(0.5f, LenienceFunction.Squared);
        output.WriteLine($"acceptance at eps 1, 0.5, 0.1: {lossless:F3} {lenient:F3} {veryLenient:F3}; f_sq at 0.5: {squared:F3}");
        Assert.True(lossless + 0.05 < lenient && lenient + 0.05 < veryLenient, $"{lossless:F3} {lenient:F3} {veryLenient:F3}");
        // p / 0.25 is more lenient than p / 0.5.
        Assert.True(lenient + 0.05 < squared, $"f_lin {lenient:F3}, f_sq {squared:F3}");
    }

    private static Verdict Lossless(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted, Span<double> uniforms, Span<float> residual) =>
        Verifier.Verify(p, q, drafted, uniforms, 1f, LenienceFunction.Linear, residual);

    // The fault: the replacement drawn with the uniform that rejected the draft (so biased towards
    // the top of the residual's CDF) instead of a fresh one. The accept decisions do not read the
    // last uniform, so the second call rejects the same draft and draws with the reused uniform.
    private static Verdict ReplacementWithTheRejectingUniform(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted,
        Span<double> uniforms, Span<float> residual)
    {
        var verdict = Lossless(p, q, drafted, uniforms, residual);
        if (verdict.Accepted == drafted.Length) return verdict;
        uniforms[^1] = uniforms[verdict.Accepted];
        return Lossless(p, q, drafted, uniforms, residual);
    }

    private static (float[] Target, float[] Draft) LogitTables(int seed)
    {
        int nodes = (int)((Math.Pow(V, Depth + 1) - 1) / (V - 1));
        var rng = new Random(seed);
        var target = new float[nodes * V];
        var draft = new float[nodes * V];
        // The draft is the target plus noise of the same size, so roughly two drafts in three are accepted.
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = ModelWeights.Gaussian(rng);
            draft[i] = target[i] + 1f * ModelWeights.Gaussian(rng);
        }
        return (target, draft);
    }

    private static (float[] P, float[] Q) Distributions(SamplingSettings settings)
    {
        var sampler = new Sampler(settings, V, 0);
        var p = new float[Logits.Target.Length];
        var q = new float[Logits.Draft.Length];
        for (int row = 0; row < p.Length; row += V)
        {
            sampler.Distribution(Logits.Target.AsSpan(row, V), p.AsSpan(row, V));
            sampler.Distribution(Logits.Draft.AsSpan(row, V), q.AsSpan(row, V));
        }
        return (p, q);
    }

    private static int Child(int context, int token) => context * V + 1 + token;

    // P(a, b, c) = p(a) p(b | a) p(c | a b): target-only sampling of the first Length tokens, (V^Length).
    private static double[] Joint(float[] p)
    {
        var joint = new double[(int)Math.Pow(V, Length)];
        for (int outcome = 0; outcome < joint.Length; outcome++)
        {
            double probability = 1;
            int context = 0;
            for (int i = 0, rest = outcome; i < Length; i++)
            {
                int token = rest / (int)Math.Pow(V, Length - 1 - i);
                rest %= (int)Math.Pow(V, Length - 1 - i);
                probability *= p[context * V + token];
                context = Child(context, token);
            }
            joint[outcome] = probability;
        }
        return joint;
    }

    // Runs speculative decoding on the tables as SpeculativeDecoder does (gamma drafts from q, one
    // verification of gamma + 1 rows of p, fresh uniforms from the same stream) until Length tokens
    // are out; counts each run's first Length tokens as one outcome (base V).
    private static long[] Sample(float[] p, float[] q, int gamma, VerifyRule verify, int seed)
    {
        var rng = new Random(seed);
        var counts = new long[(int)Math.Pow(V, Length)];
        var tokens = new int[Length + gamma + 1];
        var contexts = new int[gamma + 1];
        var drafted = new int[gamma];
        var pRows = new float[(gamma + 1) * V];
        var qRows = new float[gamma * V];
        var uniforms = new double[gamma + 1];
        var residual = new float[V];
        for (int run = 0; run < Runs; run++)
        {
            int n = 0, context = 0;
            while (n < Length)
            {
                contexts[0] = context;
                for (int i = 0; i < gamma; i++)
                {
                    q.AsSpan(contexts[i] * V, V).CopyTo(qRows.AsSpan(i * V, V));
                    drafted[i] = Sampler.Draw(qRows.AsSpan(i * V, V), rng.NextDouble());
                    contexts[i + 1] = Child(contexts[i], drafted[i]);
                }
                for (int i = 0; i <= gamma; i++) p.AsSpan(contexts[i] * V, V).CopyTo(pRows.AsSpan(i * V, V));
                for (int i = 0; i <= gamma; i++) uniforms[i] = rng.NextDouble();
                var verdict = verify(pRows, qRows, drafted, uniforms, residual);
                for (int i = 0; i < verdict.Accepted; i++) tokens[n++] = drafted[i];
                tokens[n++] = verdict.Next;
                context = Child(contexts[verdict.Accepted], verdict.Next);
            }
            int outcome = 0;
            for (int i = 0; i < Length; i++) outcome = outcome * V + tokens[i];
            counts[outcome]++;
        }
        return counts;
    }

    // P(a, b) = p(a | prompt) p(b | prompt, a), under the same transform the decoder applies.
    private static double[] TwoTokenDistribution(Transformer model, SamplingSettings settings, int[] prompt, int vocab)
    {
        var sampler = new Sampler(settings, vocab, 0);
        var logits = new float[vocab];
        var first = new float[vocab];
        var second = new float[vocab];
        using var cache = model.CreateCache();
        model.Forward(prompt, 0, cache, logits);
        sampler.Distribution(logits, first);
        var joint = new double[vocab * vocab];
        for (int a = 0; a < vocab; a++)
        {
            model.Forward([a], prompt.Length, cache, logits);
            sampler.Distribution(logits, second);
            for (int b = 0; b < vocab; b++) joint[a * vocab + b] = (double)first[a] * second[b];
        }
        return joint;
    }
}
