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
            {
                // Half a step, plus ggml's rounding of the scale to f16 after the quants were chosen (127 steps of 2^-11).
                float d = q8.Scales[(r * 64 + i) / 32];
                Assert.InRange(Math.Abs(row[i] - w[r * 64 + i]), 0, d / 2 + 127 * d / 2048 + 1e-7f);
            }
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
        foreach (var format in new[] { WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.Q5_0, WeightFormat.Q5_1 })
            Assert.Equal(BlockTensor.Quantize(w, 4, 64, format).Blocks.Length, WeightFormats.BytesPerWeight(format) * w.Length);
        var k = RandomArray(2 * 256, 9);
        foreach (var format in new[] { WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K })
            Assert.Equal(BlockTensor.Quantize(k, 2, 256, format).Blocks.Length, WeightFormats.BytesPerWeight(format) * k.Length);
        Assert.Equal(2.0 * new Bf16Tensor(w, 4, 64).Bits.Length, WeightFormats.BytesPerWeight(WeightFormat.BF16) * w.Length);
        Assert.Equal(4.0, WeightFormats.BytesPerWeight(WeightFormat.F32));
    }

    [Theory]
    [InlineData(WeightFormat.BF16, 0.02f)]
    [InlineData(WeightFormat.Q8_0, 0.05f)]
    // 4-bit weights on this tiny model's 32-wide rows: about 7% error per weight, little of it averaging out (41% rms logits).
    [InlineData(WeightFormat.Q4_0, 0.5f)]
    [InlineData(WeightFormat.Q5_0, 0.3f)]
    [InlineData(WeightFormat.Q5_1, 0.3f)]
    [InlineData(WeightFormat.Q4_K, 0.5f)]
    [InlineData(WeightFormat.Q6_K, 0.1f)]
    public void QuantisedModelsMatchTheirReferenceAndStayCloseToF32(WeightFormat format, float driftFromF32)
    {
        // 256: the down projection is a whole K-quant super-block wide (the other rows fall back to Q5_0 or Q8_0).
        var config = TinyModels.Llama(tied: true) with { IntermediateSize = 256 };
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
        var reference = Run(new ScalarBackend(), format);
        var f32 = Run(new SimdBackend(2), WeightFormat.F32);
        if (!BlockFormats.IsBlockFormat(format))
        {
            BackendOpsTests.AssertClose(reference, quantised, 1e-4f);
            BackendOpsTests.AssertClose(f32, quantised, driftFromF32);
            return;
        }
        // The block formats' kernels round activations to 8 bits (about 0.5% of each product, rms) and the error
        // compounds over eight chained MatMuls and two softmaxes (2.4-3.2% rms here); the reference multiplies in f32.
        // So: rms error, and the same argmax.
        Assert.InRange(RelativeRms(reference, quantised), 0, 0.05);
        Assert.InRange(RelativeRms(f32, quantised), 0, driftFromF32);
        int vocab = config.VocabSize, agree = 0;
        for (int t = 0; t < tokens.Length; t++)
            if (ArgMax(reference.AsSpan(t * vocab, vocab)) == ArgMax(quantised.AsSpan(t * vocab, vocab))) agree++;
        Assert.True(agree >= tokens.Length - 1, $"{format}: argmax agrees with the reference at {agree} of {tokens.Length} positions");
    }

    private static double RelativeRms(float[] expected, float[] actual)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += (double)(expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(error / norm);
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
            if (x[i] > x[best]) best = i;
        return best;
    }
}
