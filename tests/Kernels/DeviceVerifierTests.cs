using DistillSpec.Backends;
using DistillSpec.Kernels;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// The fused verification kernel against the host's oracle, Verifier.Verify on p from
/// Sampler.Distribution, on random cases with the same uniforms, on the CPU emulator. The device
/// rounds exp and its sums differently in the last bits, so a case where a decision sits within
/// 1e-4 of its boundary (u at the acceptance ratio, a top-p prefix at top-p, u at a CDF step,
/// a residual of almost no mass, near-but-unequal probabilities across the top-k/top-p cut) is
/// set aside, not compared; the tests check that few are. Exact ties, which both sides see
/// alike, are made on purpose by logits on a coarse grid.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class DeviceVerifierTests(CpuAcceleratorFixture gpu)
{
    private const double Margin = 1e-4;

    public static TheoryData<string> Settings => new()
    {
        "sample", "greedy", "greedy-lenient", "lenient", "lenient-sq", "top-k", "top-p", "top-k-top-p-lenient", "lenient-exp",
        "top-k-ties", "greedy-ties",
    };

    private static (SamplingSettings Settings, float Lenience, LenienceFunction Function, bool Grid) Named(string name) => name switch
    {
        "sample" => (new SamplingSettings { Temperature = 1f }, 1f, LenienceFunction.Linear, false),
        "greedy" => (SamplingSettings.GreedyDecoding, 1f, LenienceFunction.Linear, false),
        "greedy-lenient" => (SamplingSettings.GreedyDecoding, 0.3f, LenienceFunction.Linear, false),
        "lenient" => (new SamplingSettings { Temperature = 0.8f }, 0.5f, LenienceFunction.Linear, false),
        "lenient-sq" => (new SamplingSettings { Temperature = 0.8f }, 0.8f, LenienceFunction.Squared, false),
        "top-k" => (new SamplingSettings { Temperature = 1.2f, TopK = 5 }, 1f, LenienceFunction.Linear, false),
        "top-p" => (new SamplingSettings { Temperature = 0.7f, TopP = 0.8f }, 1f, LenienceFunction.Linear, false),
        "top-k-top-p-lenient" => (new SamplingSettings { Temperature = 1f, TopK = 12, TopP = 0.9f }, 0.7f, LenienceFunction.Linear, false),
        "lenient-exp" => (new SamplingSettings { Temperature = 1f }, 0.6f, LenienceFunction.Exponential, false),
        "top-k-ties" => (new SamplingSettings { Temperature = 1f, TopK = 4, TopP = 0.95f }, 1f, LenienceFunction.Linear, true),
        "greedy-ties" => (SamplingSettings.GreedyDecoding, 1f, LenienceFunction.Linear, true),
        _ => throw new ArgumentException(name),
    };

    [Theory, MemberData(nameof(Settings))]
    public void DecidesAsTheHostVerifierOnRandomCases(string name)
    {
        var (settings, lenience, function, grid) = Named(name);
        var rng = new Random(name.Aggregate(17, (h, ch) => h * 31 + ch));
        int compared = 0, setAside = 0, all = 0, first = 0, middle = 0;
        // Vocabularies below, at and above one slice per thread; gamma 1..4.
        foreach (int vocab in new[] { 5, 37, 61, 300 })
            for (int c = 0; c < 8; c++)
            {
                var backend = c % 2 == 0 ? gpu.Wide : gpu.Narrow;
                int gamma = 1 + c % 4;
                float noise = new[] { 0f, 0.3f, 1f, 3f }[c % 4];
                var x = RandomCase(rng, vocab, gamma, noise, settings, grid);
                var expected = Verifier.Verify(x.P, x.Q, x.Drafted, x.Uniforms, lenience, function, new float[vocab]);
                if (Fragile(x, settings, lenience, function, expected)) { setAside++; continue; }

                using var verifier = new DeviceVerifier(backend);
                using var logits = backend.Upload(x.Logits);
                var overlaps = new double[gamma];
                var actual = verifier.Verify(logits, vocab, x.Q, x.Drafted, x.Uniforms, settings, lenience, function, overlaps);
                Assert.True(expected == actual, $"{name}, vocab {vocab}, case {c}: host {expected}, device {actual}");
                int tested = expected.Accepted < gamma ? expected.Accepted + 1 : gamma;
                for (int i = 0; i < tested; i++)
                    Assert.InRange(overlaps[i] - Verifier.Overlap(x.P.AsSpan(i * vocab, vocab), x.Q.AsSpan(i * vocab, vocab)), -1e-5, 1e-5);
                compared++;
                if (expected.Accepted == gamma) all++;
                else if (expected.Accepted == 0) first++;
                else middle++;
            }
        Assert.True(setAside <= 3, $"{setAside} of {compared + setAside} cases set aside");
        Assert.True(all > 0 && first > 0 && middle > 0, $"{name}: {all} accepted all, {first} rejected first, {middle} rejected later");
    }

    [Theory]
    [InlineData(1f, 1f)]
    [InlineData(1f, 0.5f)]
    [InlineData(0f, 1f)]
    [InlineData(0f, 0.3f)]
    public void UniformsPlaceTheFirstRejectionAsOnTheHost(float temperature, float lenience)
    {
        const int vocab = 8, gamma = 3;
        var backend = gpu.Wide;
        using var verifier = new DeviceVerifier(backend);
        var settings = new SamplingSettings { Temperature = temperature };
        var logits = new float[(gamma + 1) * vocab];
        for (int i = 0; i <= gamma; i++) logits[i * vocab + i + 1] = 3f;  // row i peaks at token i + 1
        using var device = backend.Upload(logits);
        var sampler = new Sampler(settings, vocab, 0);
        var p = new float[logits.Length];
        for (int i = 0; i <= gamma; i++) sampler.Distribution(logits.AsSpan(i * vocab, vocab), p.AsSpan(i * vocab, vocab));

        for (int rejectAt = 0; rejectAt <= gamma; rejectAt++)
        {
            // Sampling: q puts 1.3 times p's mass on each draft (ratio 0.77), so u = 0.1 accepts and
            // u = 0.95 rejects. Greedy: the draft at rejectAt is not the target's argmax.
            int[] drafted = [1, 2, 3];
            var q = new float[gamma * vocab];
            for (int i = 0; i < gamma; i++)
            {
                if (settings.Greedy && i == rejectAt) drafted[i] = 0;
                if (settings.Greedy) q[i * vocab + drafted[i]] = 1f;
                else for (int t = 0; t < vocab; t++) q[i * vocab + t] = t == drafted[i] ? 1.3f * p[i * vocab + t] : t == 0 ? 0f : p[i * vocab + t];
            }
            double[] uniforms = [.. Enumerable.Range(0, gamma).Select(i => i < rejectAt ? 0.1 : 0.95), 0.3];
            var expected = Verifier.Verify(p, q, drafted, uniforms, lenience, LenienceFunction.Linear, new float[vocab]);
            if (lenience == 1f || settings.Greedy) Assert.Equal(rejectAt, expected.Accepted);
            var overlaps = new double[gamma];
            Assert.Equal(expected, verifier.Verify(device, vocab, q, drafted, uniforms, settings, lenience, LenienceFunction.Linear, overlaps));
        }
    }

    [Fact]
    public void BadArgumentsAreRejectedOnTheHost()
    {
        var backend = gpu.Wide;
        using var verifier = new DeviceVerifier(backend);
        using var logits = backend.Allocate(2 * 4);
        var settings = new SamplingSettings();
        Assert.Throws<ArgumentException>(() => verifier.Verify(new CpuTensor(8), 4, new float[4], [0], [0.5, 0.5], settings, 1f, LenienceFunction.Linear, new double[1]));
        Assert.Throws<ArgumentException>(() => verifier.Verify(logits, 4, new float[3], [0], [0.5, 0.5], settings, 1f, LenienceFunction.Linear, new double[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => verifier.Verify(logits, 4, new float[4], [4], [0.5, 0.5], settings, 1f, LenienceFunction.Linear, new double[1]));
        using IBackend simd = new SimdBackend(1);
        Assert.Null(simd.CreateVerifier());
        using var onDevice = backend.CreateVerifier();
        Assert.IsType<DeviceVerifier>(onDevice);
    }

    private sealed record Case(float[] Logits, float[] P, float[] Q, int[] Drafted, double[] Uniforms);

    // Target logits N(0, 2); the draft's are the target's plus N(0, noise), so noise sets how often
    // drafts are accepted. Drafts are drawn from q with the sampler's own Draw.
    private static Case RandomCase(Random rng, int vocab, int gamma, float noise, SamplingSettings settings, bool grid)
    {
        float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        float Snap(float x) => grid ? MathF.Round(x * 2f) / 2f : x;
        var logits = new float[(gamma + 1) * vocab];
        for (int i = 0; i < logits.Length; i++) logits[i] = Snap(2f * Normal());
        var sampler = new Sampler(settings, vocab, 0);
        var p = new float[logits.Length];
        var q = new float[gamma * vocab];
        var draftLogits = new float[vocab];
        var drafted = new int[gamma];
        for (int i = 0; i <= gamma; i++) sampler.Distribution(logits.AsSpan(i * vocab, vocab), p.AsSpan(i * vocab, vocab));
        for (int i = 0; i < gamma; i++)
        {
            for (int t = 0; t < vocab; t++) draftLogits[t] = Snap(logits[i * vocab + t] + noise * Normal());
            sampler.Distribution(draftLogits, q.AsSpan(i * vocab, vocab));
            drafted[i] = Sampler.Draw(q.AsSpan(i * vocab, vocab), rng.NextDouble());
        }
        var uniforms = Enumerable.Range(0, gamma + 1).Select(_ => rng.NextDouble()).ToArray();
        return new Case(logits, p, q, drafted, uniforms);
    }

    // True when last-bit differences in p could change the verdict (see the class summary).
    private static bool Fragile(Case x, SamplingSettings settings, float lenience, LenienceFunction function, Verdict verdict)
    {
        int gamma = x.Drafted.Length, vocab = x.P.Length / (gamma + 1);
        int tested = verdict.Accepted < gamma ? verdict.Accepted + 1 : gamma;
        for (int i = 0; i < tested; i++)
        {
            int y = x.Drafted[i];
            double ratio = Verifier.AcceptanceProbability(x.P[i * vocab + y], x.Q[i * vocab + y], lenience, function);
            if (ratio > 0 && Math.Abs(x.Uniforms[i] - ratio) < Margin) return true;
        }
        int drawRow = verdict.Accepted < gamma ? verdict.Accepted : gamma;
        for (int i = 0; i <= drawRow; i++)
            if (CutIsFragile(x.Logits.AsSpan(i * vocab, vocab), settings)) return true;

        var drawn = x.P.AsSpan(drawRow * vocab, vocab).ToArray();
        if (verdict.Accepted < gamma)
        {
            var q = x.Q.AsSpan(drawRow * vocab, vocab);
            double z = 0;
            for (int t = 0; t < vocab; t++) z += Math.Max(0f, drawn[t] - q[t]);
            if (z < 0.05) return true;
            Verifier.Residual(x.P.AsSpan(drawRow * vocab, vocab), q, drawn);
        }
        double total = drawn.Sum(d => (double)d), target = x.Uniforms[gamma] * total, cumulative = 0;
        foreach (float d in drawn)
        {
            cumulative += d;
            if (d > 0 && Math.Abs(cumulative - target) < Margin) return true;
        }
        return false;
    }

    // The top-k/top-p cut of one row: a prefix mass near top-p of the top-k mass, or unequal but
    // nearly equal probabilities on either side of the cut.
    private static bool CutIsFragile(ReadOnlySpan<float> logits, SamplingSettings settings)
    {
        if (settings.Greedy || !(settings.TopK > 0 || settings.TopP < 1f)) return false;
        var full = new float[logits.Length];
        new Sampler(new SamplingSettings { Temperature = settings.Temperature }, logits.Length, 0).Distribution(logits, full);
        var sorted = full.Where(v => v > 0).OrderByDescending(v => v).ToArray();
        int keep = settings.TopK > 0 ? Math.Min(settings.TopK, sorted.Length) : sorted.Length;
        double nucleus = settings.TopP * sorted.Take(keep).Sum(v => (double)v), cumulative = 0;
        for (int j = 0; j < keep; j++)
        {
            cumulative += sorted[j];
            if (settings.TopP < 1f && Math.Abs(cumulative - nucleus) < Margin) return true;
            if (settings.TopP < 1f && cumulative >= nucleus) { keep = j + 1; break; }
        }
        if (keep == sorted.Length) return false;
        float inside = sorted[keep - 1], outside = sorted[keep];
        return inside != outside && (inside - outside) / inside < 1e-5;
    }
}
