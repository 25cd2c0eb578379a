using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Backends;

namespace DistillSpec.Tests.Models;

public class TransformerTests
{
    // Whole-model tolerance: 1e-4 of the logit scale; errors from f32 accumulation order compound over layers.
    private const float Tolerance = 1e-4f;

    private static float[] Logits(Transformer model, int[] tokens)
    {
        using var cache = model.CreateCache();
        var logits = new float[tokens.Length * model.VocabSize];
        model.Forward(tokens, 0, cache, logits);
        return logits;
    }

    [Theory, MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void SimdForwardMatchesScalarReference(string name)
    {
        var config = TinyModels.ByName(name);
        var weights = ModelWeights.Random(config, seed: 7, std: 0.2f);
        int[] tokens = TinyModels.RandomTokens(Transformer.ChunkRows + 9, config.VocabSize, seed: 3);
        using var reference = new Transformer(config, weights, new ScalarBackend());
        foreach (int threads in new[] { 1, 2 })
        {
            using var simd = new Transformer(config, weights, new SimdBackend(threads));
            BackendOpsTests.AssertClose(Logits(reference, tokens), Logits(simd, tokens), Tolerance);
        }
    }

    [Theory, MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void IncrementalDecodingMatchesOneMultiTokenPass(string name)
    {
        var config = TinyModels.ByName(name);
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 11, std: 0.2f), new SimdBackend(2));
        int[] tokens = TinyModels.RandomTokens(20, config.VocabSize, seed: 5);
        var batch = Logits(model, tokens);

        using var cache = model.CreateCache();
        var step = new float[model.VocabSize];
        for (int i = 0; i < tokens.Length; i++)
        {
            model.Forward(tokens.AsSpan(i, 1), i, cache, step);
            BackendOpsTests.AssertClose(batch.AsSpan(i * model.VocabSize, model.VocabSize), step, Tolerance);
        }
        Assert.Equal(tokens.Length, cache.Length);
    }

    [Theory, MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void TruncateThenAppendEqualsFreshCache(string name)
    {
        var config = TinyModels.ByName(name);
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 13, std: 0.2f), new SimdBackend(2));
        int v = model.VocabSize;
        int[] prefix = TinyModels.RandomTokens(10, v, seed: 1), rejected = TinyModels.RandomTokens(4, v, seed: 2),
            accepted = TinyModels.RandomTokens(3, v, seed: 9);

        using var cache = model.CreateCache();
        var logits = new float[7 * v];
        model.Forward(prefix, 0, cache, new float[v]);
        model.Forward(rejected, 10, cache, new float[4 * v]);
        cache.Truncate(10);
        model.Forward(accepted, 10, cache, logits.AsSpan(0, 3 * v));

        var fresh = Logits(model, [.. prefix, .. accepted]);
        BackendOpsTests.AssertClose(fresh.AsSpan(10 * v, 3 * v), logits.AsSpan(0, 3 * v), Tolerance);
    }

    [Fact]
    public void LastPositionLogitsEqualTheLastRowOfAllPositions()
    {
        var config = TinyModels.Llama() with { MaxPositions = 160 };
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 4, std: 0.2f), new SimdBackend(2));
        int[] tokens = TinyModels.RandomTokens(Transformer.ChunkRows * 2 + 3, config.VocabSize, seed: 8);
        var all = Logits(model, tokens);
        using var cache = model.CreateCache();
        var last = new float[config.VocabSize];
        model.Forward(tokens, 0, cache, last);
        BackendOpsTests.AssertClose(all.AsSpan((tokens.Length - 1) * config.VocabSize), last, 1e-6f);
    }

    [Fact]
    public void ForwardLastKeepsTheLastRowOnTheBackend()
    {
        var config = TinyModels.Llama() with { MaxPositions = 160 };
        var backend = new SimdBackend(2);
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 4, std: 0.2f), backend);
        int[] tokens = TinyModels.RandomTokens(Transformer.ChunkRows + 3, config.VocabSize, seed: 8);
        var all = Logits(model, tokens);
        using var cache = model.CreateCache();
        var kept = new float[config.VocabSize];
        backend.Download(model.ForwardLast(tokens, 0, cache), 0, kept);
        BackendOpsTests.AssertClose(all.AsSpan((tokens.Length - 1) * config.VocabSize), kept, 1e-6f);
        Assert.Equal(tokens.Length, cache.Length);
    }

    [Fact]
    public void ExceedingTheContextLengthIsAClearError()
    {
        var config = TinyModels.Llama();
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 1), new SimdBackend(1));
        using var cache = model.CreateCache(capacity: 8);
        var error = Assert.Throws<ContextLengthException>(() =>
            model.Forward(TinyModels.RandomTokens(9, config.VocabSize, 1), 0, cache, new float[config.VocabSize]));
        Assert.Contains("context length is 8", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([1], 3, cache, new float[config.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([config.VocabSize], 0, cache, new float[config.VocabSize]));
    }
}

public class TransformerAllocationTests
{
    [Fact]
    public void DecodeStepsAllocateNothingAfterWarmUp()
    {
        var config = TinyModels.Llama();
        // One thread keeps every op on this thread, where allocations are counted.
        using var model = new Transformer(config, ModelWeights.Random(config, seed: 1), new SimdBackend(1));
        using var cache = model.CreateCache();
        var logits = new float[config.VocabSize];
        model.Forward([1, 2, 3], 0, cache, logits);
        int token = 4;
        for (int i = 0; i < 4; i++) model.Forward(new ReadOnlySpan<int>(in token), cache.Length, cache, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 32; i++) model.Forward(new ReadOnlySpan<int>(in token), cache.Length, cache, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
