using DistillSpec.Backends;
using DistillSpec.Kernels;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using DistillSpec.Tests.Models;
using DistillSpec.Tests.Speculative;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// Speculative decoding with the target on the ILGPU backend (CPU emulator) and verification by
/// the fused kernel, against the same decoding on the CPU: the draft on SimdBackend, then both
/// models on ILGPU. Tiny models and few tokens, as every emulated launch is slow.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class DeviceSpeculativeDecodingTests(CpuAcceleratorFixture gpu)
{
    private static readonly ModelConfig Config = TinyModels.Llama();
    private static readonly ModelWeights TargetWeights = ModelWeights.Random(Config, seed: 21, std: 0.2f);
    private static readonly ModelWeights DraftWeights = DraftModels.PerturbedWeights(TargetWeights, noise: 0.02f, seed: 3);
    private static readonly int[] Prompt = TinyModels.RandomTokens(4, Config.VocabSize, seed: 101);
    private static readonly SpeculativeOptions Options = new() { DraftMax = 3 };

    private static SpeculativeResult Run(Transformer target, Transformer draft, SamplingSettings settings, int n,
        IDeviceVerifier? verifier, KernelProfiler? profiler = null)
    {
        using var decoder = new SpeculativeDecoder(target, draft, settings, Options, seed: 5, verifier, profiler);
        return decoder.Generate(Prompt, n);
    }

    [Theory, InlineData(false), InlineData(true)]
    public void GreedyOutputEqualsTheCpuRun(bool draftOnIlgpu)
    {
        const int n = 6;
        using var cpuTarget = new Transformer(Config, TargetWeights, new SimdBackend(1));
        using var cpuDraft = new Transformer(Config, DraftWeights, new SimdBackend(1));
        var expected = Run(cpuTarget, cpuDraft, SamplingSettings.GreedyDecoding, n, verifier: null);
        Assert.InRange(expected.Stats.EmpiricalAcceptance, 0.1, 0.99);

        using var target = new Transformer(Config, TargetWeights, gpu.Narrow);
        using var ilgpuDraft = draftOnIlgpu ? new Transformer(Config, DraftWeights, gpu.Narrow) : null;
        using var verifier = new DeviceVerifier(gpu.Narrow);
        var actual = Run(target, ilgpuDraft ?? cpuDraft, SamplingSettings.GreedyDecoding, n, verifier);
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.Stats.AcceptedDrafts, actual.Stats.AcceptedDrafts);
        Assert.Equal(expected.Stats.Alpha, actual.Stats.Alpha);
    }

    [Fact]
    public void SamplingOnTheDeviceDecidesAsTheHostOnTheSameLogits()
    {
        // Both runs read the target's logits from the same ILGPU backend; only where p is computed
        // and verified differs, so with the same seed they agree token for token.
        const int n = 6;
        var settings = new SamplingSettings { Temperature = 1f, TopK = 20, TopP = 0.95f };
        using var target = new Transformer(Config, TargetWeights, gpu.Narrow);
        using var draft = new Transformer(Config, DraftWeights, new SimdBackend(1));
        using var verifier = new DeviceVerifier(gpu.Narrow);
        var profiler = new KernelProfiler();
        var host = Run(target, draft, settings, n, verifier: null);
        var device = Run(target, draft, settings, n, verifier, profiler);
        Assert.Equal(host.Tokens, device.Tokens);
        Assert.Equal(host.Stats.Alpha, device.Stats.Alpha, 5);

        var phases = profiler.Summary(KernelProfiler.PhaseCategory).ToDictionary(s => s.Name, s => s.Calls);
        Assert.Equal(device.Stats.TargetCalls, phases["verify"]);
        Assert.Equal(device.Stats.TargetCalls, phases["sample"]);
        Assert.Equal(1, phases["prefill"]);
    }

    [Theory, InlineData(0f), InlineData(1f)]
    public void NonFiniteTargetLogitsOnTheDeviceStopDecodingAtTheirPosition(float temperature)
    {
        var broken = ModelWeights.Random(Config, seed: 21, std: 0.2f);
        broken.FinalNorm[0] = float.NaN;
        using var target = new Transformer(Config, broken, gpu.Narrow);
        using var draft = new Transformer(Config, DraftWeights, new SimdBackend(1));
        using var verifier = new DeviceVerifier(gpu.Narrow);

        var error = Assert.Throws<DistillSpec.Generation.NonFiniteLogitsException>(() =>
            Run(target, draft, new SamplingSettings { Temperature = temperature }, 6, verifier));

        Assert.Equal(Prompt.Length - 1, error.Position);
        Assert.StartsWith("the target produced a non-finite logit at position 3", error.Message);
    }
}
