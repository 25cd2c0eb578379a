using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Kernels;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// Sampling where the logits are (ILGPU's CPU emulator): draw for draw against the host Sampler
/// on the same uniforms, the empirical distribution against p, and whole generations on the
/// device against the same generations on the CPU.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class DeviceSamplerTests(CpuAcceleratorFixture gpu)
{
    private static readonly ModelConfig Config = TinyModels.Llama();
    private static readonly ModelWeights Weights = ModelWeights.Random(Config, seed: 21, std: 0.2f);
    private static readonly int[] Prompt = TinyModels.RandomTokens(4, Config.VocabSize, seed: 101);

    [Fact]
    public void DrawsAsTheHostSamplerAndFollowsTheDistribution()
    {
        const int vocab = 12, draws = 150;
        var settings = new SamplingSettings { Temperature = 0.8f, TopK = 6, TopP = 0.9f };
        var random = new Random(3);
        var logits = Enumerable.Range(0, vocab).Select(_ => (float)(random.NextDouble() * 4)).ToArray();
        var p = new float[vocab];
        new Sampler(settings, vocab, seed: 0).Distribution(logits, p);

        using var row = gpu.Narrow.Upload(logits);
        using var sampler = gpu.Narrow.CreateSampler(settings)!;
        var counts = new int[vocab];
        for (int i = 0; i < draws; i++)
        {
            double u = random.NextDouble();
            int token = sampler.Sample(row, vocab, u);
            Assert.Equal(Sampler.Draw(p, u), token);
            counts[token]++;
        }
        double totalVariation = 0;
        for (int t = 0; t < vocab; t++) totalVariation += Math.Abs(counts[t] / (double)draws - p[t]) / 2;
        // Kept tokens only, and a sampling error of a few percent for this many draws.
        for (int t = 0; t < vocab; t++)
            if (p[t] == 0f) Assert.Equal(0, counts[t]);
        Assert.InRange(totalVariation, 0, 0.15);
    }

    [Fact]
    public void GreedyTakesTheFirstLargestLogitAndIgnoresTheUniform()
    {
        using var sampler = gpu.Wide.CreateSampler(SamplingSettings.GreedyDecoding)!;
        using var row = gpu.Wide.Upload([0.5f, 3f, -1f, 3f, 2f]);
        Assert.Equal(1, sampler.Sample(row, 5, 0.99));
        Assert.Equal(1, sampler.Sample(row, 5, 0.0));
        Assert.Throws<ArgumentException>(() => sampler.Sample(row, 6, 0.5));
    }

    [Fact]
    public void GreedyGenerationOnTheDeviceEqualsTheCpuAndReadsBackOnlyIds()
    {
        const int n = 6;
        var profiler = new KernelProfiler();
        using var backend = new IlgpuBackend(gpu.Accelerator, groupSize: 8, profiler);
        using var device = new Transformer(Config, Weights, backend);
        using var cpu = new Transformer(Config, Weights, new SimdBackend(1));
        var expected = new Generator(cpu, SamplingSettings.GreedyDecoding, seed: 1).Generate(Prompt, n);
        var actual = new Generator(device, SamplingSettings.GreedyDecoding, seed: 1).Generate(Prompt, n);
        Assert.Equal(expected.Tokens, actual.Tokens);

        // One argmax per token and no other read-back: the logits never left the device.
        var kernels = profiler.Summary().ToDictionary(s => s.Name, s => s.Calls);
        Assert.Equal(n, kernels["Argmax"]);
        Assert.DoesNotContain("Download", kernels.Keys);
    }

    [Fact]
    public void SampledGenerationOnTheDeviceDrawsAsTheCpu()
    {
        // Same seed, same uniforms; the logits differ between backends only in the last bits.
        const int n = 6;
        var settings = new SamplingSettings { Temperature = 1f, TopK = 20, TopP = 0.95f };
        using var device = new Transformer(Config, Weights, gpu.Narrow);
        using var cpu = new Transformer(Config, Weights, new SimdBackend(1));
        var expected = new Generator(cpu, settings, seed: 9).Generate(Prompt, n);
        var actual = new Generator(device, settings, seed: 9).Generate(Prompt, n);
        Assert.Equal(expected.Tokens, actual.Tokens);
    }

    [Fact]
    public void CpuBackendsSampleOnTheHost()
    {
        using var simd = new SimdBackend(1);
        Assert.Null(((IBackend)simd).CreateSampler(SamplingSettings.GreedyDecoding));
    }
}
