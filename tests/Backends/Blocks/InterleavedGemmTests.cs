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
    [InlineData(WeightFormat.Q5_0, 19, 96)]
    [InlineData(WeightFormat.Q5_1, 19, 96)]
    [InlineData(WeightFormat.Q4_K, 19, 512)]
    [InlineData(WeightFormat.Q5_K, 17, 256)]
    [InlineData(WeightFormat.Q6_K, 19, 512)]
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

    [Fact]
    public void FifthBitsPutEachChunksBitsAtOneBitOfFourBytes()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            uint transposed = FifthBits.Transpose(bits);
            Assert.Equal(bits, FifthBits.Untranspose(transposed));
            for (int k = 0; k < 8; k++)
                for (int m = 0; m < 4; m++)
                    Assert.Equal(bits >> (4 * k + m) & 1, transposed >> (8 * m + k) & 1);
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q8_0, "AvxVnni")]
    [InlineData(WeightFormat.Q4_0, "AvxVnni")]
    [InlineData(WeightFormat.Q8_0, "Avx2")]
    [InlineData(WeightFormat.Q4_0, "Avx2")]
    [InlineData(WeightFormat.Q5_0, "AvxVnni")]
    [InlineData(WeightFormat.Q5_0, "Avx2")]
    [InlineData(WeightFormat.Q5_1, "AvxVnni")]
    [InlineData(WeightFormat.Q5_1, "Avx2")]
    [InlineData(WeightFormat.Q4_K, "Avx2")]
    [InlineData(WeightFormat.Q5_K, "Avx2")]
    [InlineData(WeightFormat.Q6_K, "Avx2")]
    public void KernelIsTheProductOfDequantisedWeightsAndActivations(WeightFormat format, string pathName)
    {
        // Paths by name: IntDotPath is internal, theory parameters public.
        var path = Enum.Parse<IntDotPath>(pathName);
        if (!InterleavedGemm.IsSupported(path))
        {
            // A CPU without the path must refuse it rather than fault.
            var weights = new InterleavedBlocks(format, 8, 32, new byte[8 * BlockFormats.RowBytes(format, 32)]);
            var activations = new ActivationBlocks();
            var y = new float[8];
            fixed (float* xs = new float[32]) activations.Quantize(xs, 1, 32, 32);
            Assert.Throws<PlatformNotSupportedException>(() =>
            {
                fixed (byte* bytes = weights.Bytes)
                fixed (float* ys = y)
                    InterleavedGemm.Run(path, activations, weights, bytes, 0, 8, null, ys, 8);
            });
            return;
        }
        // 19 outputs: two groups of 8 and 3 rows in ggml's layout; 96 and 864 columns: 3 and 27 blocks
        // (K-quants: 1 and 3 super-blocks).
        int block = BlockFormats.BlockWeights(format), small = block == 256 ? 256 : 96, large = block == 256 ? 768 : 864;
        foreach (var (rows, inDim, outDim) in new[] { (1, small, 19), (5, large, 19), (6, small, 8), (7, small, 16), (13, large, 19) })
        {
            var random = new Random(rows * 31 + inDim);
            float[] x = Random(random, rows * inDim, 2f), w = Random(random, outDim * inDim, 0.5f), bias = Random(random, outDim, 1f);
            var plain = BlockTensor.Quantize(w, outDim, inDim, format);
            var weights = new InterleavedBlocks(format, outDim, inDim, BlockFormats.Quantize(format, w, inDim));
            var activations = new ActivationBlocks();
            var y = new float[rows * outDim];
            fixed (float* xs = x) activations.Quantize(xs, rows, inDim, block == 256 ? 256 : 32);
            fixed (byte* bytes = weights.Bytes)
            fixed (float* b = bias, ys = y)
            {
                // Two calls, as two workers would split the outputs on a group boundary.
                InterleavedGemm.Run(path, activations, weights, bytes, 0, 8, b, ys, outDim);
                InterleavedGemm.Run(path, activations, weights, bytes, 8, outDim, b, ys, outDim);
            }

            var dequantised = new float[inDim];
            var expected = new float[rows * outDim];
            for (int o = 0; o < outDim; o++)
            {
                plain.DequantizeRow(o, dequantised);
                for (int r = 0; r < rows; r++)
                {
                    expected[r * outDim + o] = (float)(bias[o] + BlockReference.Dot(plain, o, dequantised, activations, r));
                }
            }
            ReferenceComparison.AssertClose(expected, y, 1e-5f);
        }
    }

    [Theory]
    [InlineData(WeightFormat.Q8_0)]
    [InlineData(WeightFormat.Q4_0)]
    [InlineData(WeightFormat.Q5_0)]
    [InlineData(WeightFormat.Q5_1)]
    [InlineData(WeightFormat.Q4_K)]
    [InlineData(WeightFormat.Q5_K)]
    [InlineData(WeightFormat.Q6_K)]
    public void ExtremeQuantsStayExact(WeightFormat format)
    {
        // Every quant at its format's extreme (Q8_0 -128 and 127, the others all bits clear or set),
        // random K-quant scales, against activations of +-127: no path's int16 sums may saturate or wrap.
        var paths = new[] { IntDotPath.AvxVnni, IntDotPath.Avx2 }.Where(InterleavedGemm.IsSupported).ToArray();
        Assert.Equal(InterleavedBlocks.IsSupported, paths.Length > 0);
        int block = BlockFormats.BlockWeights(format), inDim = 2 * block, outDim = 8, blockBytes = BlockFormats.BlockBytes(format);
        var random = new Random(7);
        foreach (bool high in new[] { false, true })
        {
            var stored = new byte[outDim * BlockFormats.RowBytes(format, inDim)];
            for (int at = 0; at < stored.Length; at += blockBytes)
                foreach (var field in BlockFields.Of(format))
                {
                    var bytes = stored.AsSpan(at + field.Offset, field.Length);
                    if (field.Quants) bytes.Fill(format == WeightFormat.Q8_0 ? (byte)(high ? 127 : 0x80) : (byte)(high ? 0xFF : 0x00));
                    else if (field.Unit == 2) BitConverter.TryWriteBytes(bytes, (Half)0.5f);
                    else random.NextBytes(bytes);
                }
            // Row 0 all +1, row 1 all -1: every pair of products at its extreme, nothing cancelling.
            var x = Enumerable.Range(0, 2 * inDim).Select(i => i < inDim ? 1f : -1f).ToArray();
            var plain = new BlockTensor(format, outDim, inDim, (byte[])stored.Clone());
            var weights = new InterleavedBlocks(format, outDim, inDim, stored);
            var activations = new ActivationBlocks();
            fixed (float* xs = x) activations.Quantize(xs, 2, inDim, block == 256 ? 256 : 32);
            var row = new float[inDim];
            foreach (var path in paths)
            {
                var y = new float[2 * outDim];
                fixed (byte* bytes = weights.Bytes)
                fixed (float* ys = y)
                    InterleavedGemm.Run(path, activations, weights, bytes, 0, outDim, null, ys, outDim);
                for (int o = 0; o < outDim; o++)
                {
                    plain.DequantizeRow(o, row);
                    for (int r = 0; r < 2; r++)
                    {
                        double sum = BlockReference.Dot(plain, o, row, activations, r);
                        Assert.Equal(sum, y[r * outDim + o], 1e-5 * Math.Abs(sum) + 1e-3);
                    }
                }
            }
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
