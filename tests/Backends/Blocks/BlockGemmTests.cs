using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends.Blocks;

/// <summary>
/// The integer block kernels on every path (scalar, AVX2, AVX-VNNI), each run directly: their
/// output must be the exact product of the dequantised weights with the 8-bit activations they
/// were given, up to f32 summation order. A path this CPU lacks must refuse to run.
/// </summary>
public unsafe class BlockGemmTests
{
    // Paths by name: IntDotPath is internal, theory parameters public.
    public static TheoryData<WeightFormat, string> Cases()
    {
        var data = new TheoryData<WeightFormat, string>();
        foreach (var format in new[] { WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.Q5_0, WeightFormat.Q5_1, WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K })
            foreach (var path in Enum.GetValues<IntDotPath>())
                data.Add(format, path.ToString());
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void KernelIsTheProductOfDequantisedWeightsAndActivations(WeightFormat format, string pathName)
    {
        var path = Enum.Parse<IntDotPath>(pathName);
        int block = BlockFormats.BlockWeights(format);
        // rows 1-6 in one pass, 7, 9 and 13 in groups of six (on AVX-VNNI with AVX-512, from unpacked
        // tiles of 8 outputs, 11 leaving a partial one); columns past one block.
        // 35 and 33 blocks: scales widened 16 at a time, then one by one, then an odd last block.
        foreach (var (rows, inDim, outDim) in new[] { (1, 2 * block, 9), (2, block, 5), (5, 3 * block, 7), (6, block, 3), (7, 2 * block, 4), (9, block, 6), (13, 3 * block, 11),
                     (1, 35 * block, 3), (5, 33 * block, 2) })
        {
            var random = new Random(rows * 31 + inDim);
            float[] x = Random(random, rows * inDim, 2f), w = Random(random, outDim * inDim, 0.5f), bias = Random(random, outDim, 1f);
            var weights = BlockTensor.Quantize(w, outDim, inDim, format);
            var activations = new ActivationBlocks();
            var y = new float[rows * outDim];
            fixed (float* xs = x) activations.Quantize(xs, rows, inDim, block == 256 ? 256 : 32);
            if (!BlockGemm.IsSupported(path))
            {
                Assert.Throws<PlatformNotSupportedException>(() => Run(path, format, activations, weights, bias, y, outDim));
                return;
            }
            Run(path, format, activations, weights, bias, y, outDim);

            var dequantised = new float[inDim];
            var expected = new float[rows * outDim];
            for (int o = 0; o < outDim; o++)
            {
                weights.DequantizeRow(o, dequantised);
                for (int r = 0; r < rows; r++)
                {
                    expected[r * outDim + o] = (float)(bias[o] + BlockReference.Dot(weights, o, dequantised, activations, r));
                }
            }
            ReferenceComparison.AssertClose(expected, y, 1e-5f);
        }
    }

    [Fact]
    public void ActivationsRoundToTheNearestStepOfTheirBlock_ScaledAsGgmlDoes()
    {
        var x = Random(new Random(3), 2 * 512, 4f);
        x[700] = 0f;
        var a = new ActivationBlocks();
        fixed (float* xs = x) a.Quantize(xs, 2, 512, 256);
        for (int i = 0; i < x.Length; i++)
        {
            // As ggml's Q8_K: d = 1 / iscale with iscale = -127 / (the block's signed extreme), so d is negative when that extreme is positive.
            float d = a.Scales[i / 256];
            Assert.InRange(Math.Abs(a.Quants[i] * d - x[i]), 0, Math.Abs(d) / 2 * 1.0001f);
        }
        for (int b = 0; b < 2; b++)
        {
            int extreme = Enumerable.Range(256 * b, 256).MaxBy(i => Math.Abs(x[i]));
            Assert.Equal(-127, a.Quants[extreme]);
        }
        for (int g = 0; g < x.Length / 16; g++)
            Assert.Equal(Enumerable.Range(16 * g, 16).Sum(i => (int)a.Quants[i]), a.Sums[g]);
    }

    [Fact]
    public void Q8_0ActivationScalesAreF16_AsGgmlStoresThem()
    {
        var x = Random(new Random(4), 64, 3f);
        var a = new ActivationBlocks();
        fixed (float* xs = x) a.Quantize(xs, 1, 64, 32);
        for (int b = 0; b < 2; b++)
        {
            float amax = x.Skip(32 * b).Take(32).Max(Math.Abs);
            Assert.Equal((float)(Half)(amax / 127f), a.Scales[b]);
            for (int i = 32 * b; i < 32 * b + 32; i++) Assert.Equal(Math.Round(x[i] * (127f / amax), MidpointRounding.ToEven), a.Quants[i]);
        }
    }

    [Fact]
    public void KQuantsFallBackOnRowsThatAreNotWholeSuperBlocks()
    {
        Assert.Equal(WeightFormat.Q5_0, WeightFormats.ForRow(WeightFormat.Q4_K, 896));
        Assert.Equal(WeightFormat.Q5_1, WeightFormats.ForRow(WeightFormat.Q5_K, 576));
        Assert.Equal(WeightFormat.Q8_0, WeightFormats.ForRow(WeightFormat.Q6_K, 896));
        Assert.Equal(WeightFormat.Q6_K, WeightFormats.ForRow(WeightFormat.Q6_K, 4864));
        var tensor = new SimdBackend(1).UploadMatrix(new float[2 * 96], 2, 96, WeightFormat.Q4_K);
        Assert.Equal(WeightFormat.Q5_0, tensor switch { BlockTensor b => b.Format, InterleavedBlocks i => i.Format, _ => WeightFormat.F32 });
    }

    private static void Run(IntDotPath path, WeightFormat format, ActivationBlocks a, BlockTensor w, float[] bias, float[] y, int outDim)
    {
        fixed (byte* blocks = w.Blocks)
        fixed (float* b = bias, ys = y)
            BlockGemm.Run(path, format, a, blocks, w.RowBytes, 0, outDim, b, ys, outDim);
    }

    private static float[] Random(Random random, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
}
