using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends.Blocks;

/// <summary>
/// Q8_0 / Q4_0 matrices interleaved 8 rows at a time (InterleavedBlocks) and their kernel: the
/// layout must lose nothing, and the product must be that of the dequantised weights with the
/// 8-bit activations, for every row count and with rows left over past the last group of 8.
/// </summary>
public unsafe class InterleavedGemmTests
{
    [Theory]
    [InlineData(WeightFormat.Q8_0, 19, 96)]
    [InlineData(WeightFormat.Q4_0, 19, 96)]
    [InlineData(WeightFormat.Q8_0, 16, 32)]
    [InlineData(WeightFormat.Q4_0, 5, 64)]
    public void InterleavingKeepsEveryRow(WeightFormat format, int rows, int cols)
    {
        float[] w = Random(new Random(rows + cols), rows * cols, 1f);
        byte[] stored = BlockFormats.Quantize(format, w, cols);
        var plain = new BlockTensor(format, rows, cols, (byte[])stored.Clone());
        var interleaved = new InterleavedBlocks(format, rows, cols, stored);
        Assert.Equal(rows / 8, interleaved.Groups);
        if (rows >= 8) Assert.NotEqual(plain.Blocks, interleaved.Bytes);
        var expected = new float[cols];
        var actual = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            plain.DequantizeRow(r, expected);
            interleaved.DequantizeRow(r, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q8_0)]
    [InlineData(WeightFormat.Q4_0)]
    public void KernelIsTheProductOfDequantisedWeightsAndActivations(WeightFormat format)
    {
        if (!InterleavedBlocks.IsSupported)
        {
            // Without AVX-VNNI the backend keeps ggml's layout, which BlockGemmTests covers.
            Assert.IsType<BlockTensor>(new SimdBackend(1).UploadMatrix(new float[8 * 32], 8, 32, format));
            return;
        }
        // 19 outputs: two groups of 8 and 3 rows in ggml's layout; 96 and 864 columns: 3 and 27 blocks.
        foreach (var (rows, inDim, outDim) in new[] { (1, 96, 19), (5, 864, 19), (6, 96, 8), (7, 96, 16), (13, 864, 19) })
        {
            var random = new Random(rows * 31 + inDim);
            float[] x = Random(random, rows * inDim, 2f), w = Random(random, outDim * inDim, 0.5f), bias = Random(random, outDim, 1f);
            var plain = BlockTensor.Quantize(w, outDim, inDim, format);
            var weights = new InterleavedBlocks(format, outDim, inDim, BlockFormats.Quantize(format, w, inDim));
            var activations = new ActivationBlocks();
            var y = new float[rows * outDim];
            fixed (float* xs = x) activations.Quantize(xs, rows, inDim, 32);
            fixed (byte* bytes = weights.Bytes)
            fixed (float* b = bias, ys = y)
            {
                // Two calls, as two workers would split the outputs on a group boundary.
                InterleavedGemm.Run(activations, weights, bytes, 0, 8, b, ys, outDim);
                InterleavedGemm.Run(activations, weights, bytes, 8, outDim, b, ys, outDim);
            }

            var dequantised = new float[inDim];
            var expected = new float[rows * outDim];
            for (int o = 0; o < outDim; o++)
            {
                plain.DequantizeRow(o, dequantised);
                for (int r = 0; r < rows; r++)
                {
                    double sum = bias[o];
                    for (int i = 0; i < inDim; i++)
                        sum += (double)dequantised[i] * activations.Quants[r * inDim + i] * activations.Scales[(r * inDim + i) / 32];
                    expected[r * outDim + o] = (float)sum;
                }
            }
            ReferenceComparison.AssertClose(expected, y, 1e-5f);
        }
    }

    [Fact]
    public void OutputRangesMustStartOnAGroup()
    {
        var weights = new InterleavedBlocks(WeightFormat.Q8_0, 16, 32, new byte[16 * 34]);
        var activations = new ActivationBlocks();
        var x = new float[32];
        var y = new float[16];
        fixed (float* xs = x) activations.Quantize(xs, 1, 32, 32);
        var error = Assert.Throws<ArgumentException>(() =>
        {
            fixed (byte* bytes = weights.Bytes)
            fixed (float* ys = y)
                InterleavedGemm.Run(activations, weights, bytes, 4, 16, null, ys, 16);
        });
        Assert.Contains("group of 8", error.Message);
    }

    private static float[] Random(Random random, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
}
