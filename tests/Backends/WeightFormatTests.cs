using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// What quantisation does to the weights and to a model's logits. Each backend's quantised
/// MatMul and Embed against the scalar reference is in BackendOpsTests.
/// </summary>
public class WeightFormatTests
{
    private static float[] RandomArray(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Fact]
    public void QuantisationErrorIsWithinTheFormatsResolution()
    {
        var w = RandomArray(4 * 64, 9);
        var q8 = new Q8Tensor(w, 4, 64);
        var bf16 = new Bf16Tensor(w, 4, 64);
        var row = new float[64];
        for (int r = 0; r < 4; r++)
        {
            q8.DequantizeRow(r, row);
            for (int i = 0; i < 64; i++)
                Assert.InRange(Math.Abs(row[i] - w[r * 64 + i]), 0, q8.Scales[(r * 64 + i) / 32] / 2 + 1e-7f);
            bf16.DequantizeRow(r, row);
            for (int i = 0; i < 64; i++)
                Assert.InRange(Math.Abs(row[i] - w[r * 64 + i]), 0, Math.Abs(w[r * 64 + i]) / 256 + 1e-30f);
        }
        Assert.Contains("multiple of 32", Assert.Throws<ArgumentException>(() => new Q8Tensor(new float[40], 1, 40)).Message);
    }

    [Fact]
    public void BytesPerWeightCountTheStoredArrays()
    {
        var w = RandomArray(4 * 64, 9);
        var q8 = new Q8Tensor(w, 4, 64);
        Assert.Equal(q8.Quants.Length + 4.0 * q8.Scales.Length, WeightFormats.BytesPerWeight(WeightFormat.Q8_0) * w.Length);
        Assert.Equal(2.0 * new Bf16Tensor(w, 4, 64).Bits.Length, WeightFormats.BytesPerWeight(WeightFormat.BF16) * w.Length);
        Assert.Equal(4.0, WeightFormats.BytesPerWeight(WeightFormat.F32));
    }

    [Theory]
    [InlineData(WeightFormat.BF16, 0.02f)]
    [InlineData(WeightFormat.Q8_0, 0.05f)]
    public void QuantisedModelsMatchTheirReferenceAndStayCloseToF32(WeightFormat format, float driftFromF32)
    {
        var config = TinyModels.Llama(tied: true) with { IntermediateSize = 64 };
        var weights = ModelWeights.Random(config, seed: 5, std: 0.2f);
        int[] tokens = TinyModels.RandomTokens(12, config.VocabSize, seed: 4);
        float[] Run(IBackend backend, WeightFormat f)
        {
            using var model = new Transformer(config, weights, backend, f);
            using var cache = model.CreateCache();
            var logits = new float[tokens.Length * config.VocabSize];
            model.Forward(tokens, 0, cache, logits);
            return logits;
        }
        var quantised = Run(new SimdBackend(2), format);
        BackendOpsTests.AssertClose(Run(new ScalarBackend(), format), quantised, 1e-4f);
        BackendOpsTests.AssertClose(Run(new SimdBackend(2), WeightFormat.F32), quantised, driftFromF32);
    }
}
