using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Backends;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Kernels;

/// <summary>
/// Whole forward passes on the ILGPU backend (CPU emulator) against SimdBackend: a multi-token
/// prompt through the cache, then single-token decode steps, for both architectures.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public class IlgpuTransformerTests(CpuAcceleratorFixture gpu)
{
    // As TransformerTests: 1e-4 of the logit scale; f32 accumulation order compounds over layers.
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Names => new() { "llama-gqa", "qwen2-bias", "gpt2" };

    [Theory, MemberData(nameof(Names))]
    public void PromptThenDecodeStepsMatchSimd(string name)
    {
        var config = TinyModels.ByName(name);
        var weights = ModelWeights.Random(config, seed: 7, std: 0.2f);
        int v = config.VocabSize;
        int[] prompt = TinyModels.RandomTokens(4, v, seed: 3), steps = TinyModels.RandomTokens(2, v, seed: 4);

        using var simd = new Transformer(config, weights, new SimdBackend(1));
        using var ilgpu = new Transformer(config, weights, gpu.Wide);
        using var simdCache = simd.CreateCache(capacity: 16);
        using var ilgpuCache = ilgpu.CreateCache(capacity: 16);

        var expected = new float[prompt.Length * v];
        var actual = new float[prompt.Length * v];
        simd.Forward(prompt, 0, simdCache, expected);
        ilgpu.Forward(prompt, 0, ilgpuCache, actual);
        BackendOpsTests.AssertClose(expected, actual, Tolerance);

        for (int i = 0; i < steps.Length; i++)
        {
            int position = prompt.Length + i;
            simd.Forward(steps.AsSpan(i, 1), position, simdCache, expected.AsSpan(0, v));
            ilgpu.Forward(steps.AsSpan(i, 1), position, ilgpuCache, actual.AsSpan(0, v));
            BackendOpsTests.AssertClose(expected.AsSpan(0, v), actual.AsSpan(0, v), Tolerance);
        }
        Assert.Equal(prompt.Length + steps.Length, ilgpuCache.Length);
    }
}
