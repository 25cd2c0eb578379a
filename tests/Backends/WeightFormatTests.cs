using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Tests.Models;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Quantised paths against their own dequantised reference: the scalar backend expands the
/// same stored bits to f32 and multiplies in double, so any difference is the SIMD kernel's.
/// </summary>
public class WeightFormatTests
{
    private static float[] RandomArray(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(WeightFormat.BF16)]
    [InlineData(WeightFormat.Q8_0)]
    public void MatMulAndEmbedMatchTheDequantisedReference(WeightFormat format)
    {
        var reference = new ScalarBackend();
        using var simd = new SimdBackend(2);
        foreach (var (rows, inDim, outDim) in new[] { (1, 64, 40), (2, 64, 33), (3, 96, 36), (5, 96, 37), (6, 32, 20), (7, 64, 44), (9, 128, 130) })
        {
            var w = RandomArray(outDim * inDim, 1);
            var x = RandomArray(rows * inDim, 2);
            var b = RandomArray(outDim, 3);
            var expected = new float[rows * outDim];
            var actual = new float[rows * outDim];
            var yRef = reference.Allocate(rows * outDim);
            var ySimd = simd.Allocate(rows * outDim);
            reference.MatMul(reference.Upload(x), rows, inDim, reference.UploadMatrix(w, outDim, inDim, format), outDim, reference.Upload(b), yRef);
            simd.MatMul(simd.Upload(x), rows, inDim, simd.UploadMatrix(w, outDim, inDim, format), outDim, simd.Upload(b), ySimd);
            reference.Download(yRef, 0, expected);
            simd.Download(ySimd, 0, actual);
            BackendOpsTests.AssertClose(expected, actual, 1e-4f);

            int[] tokens = [0, outDim - 1, 3];
            var eRef = reference.Allocate(tokens.Length * inDim);
            var eSimd = simd.Allocate(tokens.Length * inDim);
            reference.Embed(reference.UploadMatrix(w, outDim, inDim, format), tokens, inDim, eRef);
            simd.Embed(simd.UploadMatrix(w, outDim, inDim, format), tokens, inDim, eSimd);
            Assert.Equal(((CpuTensor)eRef).Data, ((CpuTensor)eSimd).Data);
        }
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
