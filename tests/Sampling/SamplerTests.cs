using DistillSpec.Sampling;

namespace DistillSpec.Tests.Sampling;

public class SamplerTests
{
    private static readonly float[] Logits = [1f, 3f, 2f, -1f, 0.5f];

    private static float[] Distribution(SamplingSettings s)
    {
        var p = new float[Logits.Length];
        new Sampler(s, Logits.Length, 0).Distribution(Logits, p);
        return p;
    }

    private static double[] Softmax(double[] x)
    {
        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }

    [Fact]
    public void GreedyIsOneHotAtTheArgmax()
    {
        Assert.Equal([0f, 1f, 0f, 0f, 0f], Distribution(SamplingSettings.GreedyDecoding));
        var sampler = new Sampler(SamplingSettings.GreedyDecoding, Logits.Length, 0);
        Assert.Equal(1, sampler.Sample(Logits, new float[Logits.Length]));
    }

    [Fact]
    public void TemperatureScalesLogitsBeforeSoftmax()
    {
        var expected = Softmax(Logits.Select(l => l / 0.5).ToArray());
        var actual = Distribution(new SamplingSettings { Temperature = 0.5f });
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void TopKKeepsTheKMostLikelyRenormalised()
    {
        var p = Distribution(new SamplingSettings { TopK = 2 });
        var full = Softmax(Logits.Select(l => (double)l).ToArray());
        Assert.Equal(full[1] / (full[1] + full[2]), p[1], 5);
        Assert.Equal(full[2] / (full[1] + full[2]), p[2], 5);
        Assert.Equal(0f, p[0] + p[3] + p[4]);
    }

    // The sampler sorts only candidates; this reference sorts the whole vocabulary.
    [Theory]
    [InlineData(0, 0.95f)]
    [InlineData(40, 1f)]
    [InlineData(40, 0.95f)]
    [InlineData(1, 0.5f)]
    [InlineData(700, 0.999f)]
    [InlineData(0, 0.3f)]
    public void TruncationEqualsAFullSortOnLargeVocabularies(int topK, float topP)
    {
        var random = new Random(topK * 31 + (int)(topP * 1000));
        const int vocab = 3000;
        foreach (float spread in new[] { 0.01f, 1f, 8f })
        {
            // Rounded logits give many exact ties, which must go to the lower id.
            var logits = Enumerable.Range(0, vocab).Select(_ => MathF.Round((float)random.NextDouble() * spread * 20f) / 20f).ToArray();
            var full = new float[vocab];
            new Sampler(new SamplingSettings(), vocab, 0).Distribution(logits, full);
            var order = Enumerable.Range(0, vocab).Where(i => full[i] > 0).OrderByDescending(i => full[i]).ThenBy(i => i).ToList();
            if (topK > 0) order = order.Take(topK).ToList();
            if (topP < 1f)
            {
                // Top-p of the distribution top-k left, renormalised.
                double topKMass = order.Sum(i => (double)full[i]), cumulative = 0;
                int keep = order.Count;
                for (int j = 0; j < order.Count; j++)
                    if ((cumulative += full[order[j]] / topKMass) >= topP) { keep = j + 1; break; }
                order = order.Take(keep).ToList();
            }
            double kept = order.Sum(i => (double)full[i]);
            var expected = new float[vocab];
            foreach (int i in order) expected[i] = (float)(full[i] / kept);

            var actual = new float[vocab];
            new Sampler(new SamplingSettings { TopK = topK, TopP = topP }, vocab, 0).Distribution(logits, actual);
            for (int i = 0; i < vocab; i++)
            {
                Assert.Equal(expected[i] > 0, actual[i] > 0);
                Assert.Equal(expected[i], actual[i], 1e-6f);
            }
        }
    }

    [Fact]
    public void TopPKeepsTheSmallestPrefixReachingP()
    {
        var full = Softmax(Logits.Select(l => (double)l).ToArray()); // ~[0.08, 0.61, 0.23, 0.01, 0.05]
        var p = Distribution(new SamplingSettings { TopP = 0.7f });
        Assert.Equal(full[1] / (full[1] + full[2]), p[1], 5);
        Assert.Equal(0f, p[0] + p[3] + p[4]);
        var single = Distribution(new SamplingSettings { TopP = 0.5f });
        Assert.Equal(1f, single[1], 6);
    }

    [Fact]
    public void TopPIsMeasuredOnTheDistributionTopKLeft()
    {
        // After top-k 2: 0.4 / 0.7 = 0.571 and 0.3 / 0.7 = 0.429; the first alone reaches top-p 0.5,
        // though its mass before renormalising, 0.4, does not.
        var p = new float[4];
        new Sampler(TopKThenTopP.Settings, 4, 0).Distribution(TopKThenTopP.Logits, p);
        Assert.Equal(TopKThenTopP.Expected, p);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndFollowsTheDistribution()
    {
        var settings = new SamplingSettings { Temperature = 1f };
        var a = new Sampler(settings, Logits.Length, 42);
        var b = new Sampler(settings, Logits.Length, 42);
        var counts = new int[Logits.Length];
        var scratch = new float[Logits.Length];
        const int n = 20000;
        for (int i = 0; i < n; i++)
        {
            int t = a.Sample(Logits, scratch);
            Assert.Equal(t, b.Sample(Logits, scratch));
            counts[t]++;
        }
        var expected = Softmax(Logits.Select(l => (double)l).ToArray());
        // 5 standard errors of a binomial proportion at n = 20000 is at most 0.018.
        for (int i = 0; i < expected.Length; i++) Assert.InRange(counts[i] / (double)n, expected[i] - 0.018, expected[i] + 0.018);
    }

    [Fact]
    public void DrawSkipsZerosAndHandlesTheEdges()
    {
        float[] p = [0f, 0.25f, 0f, 0.75f];
        Assert.Equal(1, Sampler.Draw(p, 0.0));
        Assert.Equal(1, Sampler.Draw(p, 0.2499));
        Assert.Equal(3, Sampler.Draw(p, 0.25));
        Assert.Equal(3, Sampler.Draw(p, 0.999999));
        Assert.Throws<ArgumentException>(() => Sampler.Draw([0f, 0f], 0.5));
    }

    [Fact]
    public void InvalidSettingsAreRejectedWithTheirName()
    {
        // Library wording: the property's name, not a command-line flag.
        foreach (var (settings, name) in new[]
                 {
                     (new SamplingSettings { TopP = 0f }, "TopP"),
                     (new SamplingSettings { Temperature = -1f }, "Temperature"),
                     (new SamplingSettings { TopK = -2 }, "TopK"),
                 })
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => settings.Validate());
            Assert.Equal(name, error.ParamName);
            Assert.StartsWith(name + " must be", error.Message);
            Assert.DoesNotContain("--", error.Message);
        }
    }

    [Theory]
    [InlineData(1e-45f)]
    [InlineData(1e-30f)]
    [InlineData(9.9e-7f)]
    public void TemperaturesBelowTheGreedyThresholdAreGreedy(float temperature)
    {
        var settings = new SamplingSettings { Temperature = temperature, TopK = 40, TopP = 0.9f };
        Assert.True(settings.Greedy);
        Assert.Equal(Distribution(SamplingSettings.GreedyDecoding), Distribution(settings));
        Assert.Equal(1, new Sampler(settings, Logits.Length, 7).Sample(Logits, new float[Logits.Length]));
    }
}


/// <summary>The case every sampler implementation is checked on: logits log[0.4, 0.3, 0.2, 0.1], top-k 2, top-p 0.5.</summary>
internal static class TopKThenTopP
{
    public static readonly float[] Logits = [MathF.Log(0.4f), MathF.Log(0.3f), MathF.Log(0.2f), MathF.Log(0.1f)];
    public static readonly SamplingSettings Settings = new() { TopK = 2, TopP = 0.5f };
    public static readonly float[] Expected = [1f, 0f, 0f, 0f];
}

public class SoftmaxTests
{
    [Fact]
    public void LargeLogitsDoNotOverflow()
    {
        float[] p = new float[3];
        DistillSpec.Numerics.Softmax.Stable([100f, 0f, 90f], p);
        Assert.Equal(1 / (1 + Math.Exp(-10)), p[0], 5);
        Assert.Equal(Math.Exp(-10) / (1 + Math.Exp(-10)), p[2], 5);
        var sampler = new Sampler(new SamplingSettings { Temperature = 0.01f }, 3, 0);
        sampler.Distribution([5f, 0f, 4f], p);
        Assert.Equal(1f, p[0], 5);
    }
}
