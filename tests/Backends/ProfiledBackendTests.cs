using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Backends;

public class ProfiledBackendTests
{
    [Fact]
    public void WrappedForwardPassIsUnchangedAndEveryOpIsTimed()
    {
        var config = TinyModels.Llama();
        var weights = ModelWeights.Random(config, seed: 7, std: 0.2f);
        int[] tokens = TinyModels.RandomTokens(3, config.VocabSize, seed: 3);
        var profiler = new KernelProfiler();
        using var plain = new Transformer(config, weights, new SimdBackend(1));
        using var profiled = new Transformer(config, weights, new ProfiledBackend(new SimdBackend(1), profiler, KernelProfiler.DraftThread));

        float[] expected = new float[config.VocabSize], actual = new float[config.VocabSize];
        using (var cache = plain.CreateCache()) plain.Forward(tokens, 0, cache, expected);
        using (var cache = profiled.CreateCache()) profiled.Forward(tokens, 0, cache, actual);
        Assert.Equal(expected, actual);

        var calls = profiler.Summary().ToDictionary(s => s.Name, s => s.Calls);
        // Per layer: q, k, v, o, up, gate, down over 3 rows; then the head over the last row.
        Assert.Equal(7 * config.Layers, calls["MatMul"]);
        Assert.Equal(1, calls["MatVec"]);
        Assert.Equal(config.Layers, calls["Attention"]);
        Assert.Equal(1, calls["Download"]);
        Assert.All(profiler.Events, e => Assert.Equal(KernelProfiler.DraftThread, e.Thread));
    }
}
