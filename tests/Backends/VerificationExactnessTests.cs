using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// A verification pass multiplies several rows at once with other kernels than a decode step
/// (register-blocked rows, inputs walked in chunks, 16 lanes for BF16; attention for all rows of
/// a KV head together). It must still give every
/// row exactly what a one-row pass gives, or greedy speculative decoding could emit other tokens
/// than target-only decoding wherever two logits nearly tie.
/// </summary>
public class VerificationExactnessTests
{
    public static TheoryData<WeightFormat, int, int> Cases => new()
    {
        // 1536 spans three input chunks; 520 leaves a tail past the last full vector; 37 output
        // columns leave partial blocks of eight and of four.
        { WeightFormat.F32, 1536, 37 }, { WeightFormat.F32, 520, 64 }, { WeightFormat.F32, 512, 12 },
        { WeightFormat.BF16, 1536, 37 }, { WeightFormat.BF16, 520, 64 }, { WeightFormat.BF16, 72, 9 },
        // Block formats: up to 6 rows take one kernel, more take another (unpacked weight tiles);
        // 896 and 864 are even and odd counts of 32-blocks, 19 outputs leave a partial tile.
        { WeightFormat.Q8_0, 896, 19 }, { WeightFormat.Q8_0, 864, 40 }, { WeightFormat.Q4_0, 896, 19 }, { WeightFormat.Q4_0, 864, 17 }, { WeightFormat.Q5_0, 896, 19 }, { WeightFormat.Q5_1, 864, 19 },
        { WeightFormat.Q4_K, 512, 19 }, { WeightFormat.Q6_K, 768, 9 },
    };

    [Theory, MemberData(nameof(Cases))]
    public void EveryRowOfAMultiRowPassEqualsItsOneRowPass(WeightFormat format, int inDim, int outDim)
    {
        var random = new Random(inDim * 31 + outDim);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        foreach (int threads in new[] { 1, 2 })
        {
            using var backend = new SimdBackend(threads);
            using var w = backend.UploadMatrix(Random(inDim * outDim), outDim, inDim, format);
            using var bias = backend.Upload(Random(outDim));
            foreach (int rows in new[] { 2, 5, 6, 9, 13 })
            {
                float[] x = Random(rows * inDim);
                using var xs = backend.Upload(x);
                using var ys = backend.Allocate(rows * outDim);
                backend.MatMul(xs, rows, inDim, w, outDim, bias, ys);
                var all = new float[rows * outDim];
                backend.Download(ys, 0, all);
                for (int r = 0; r < rows; r++)
                {
                    using var one = backend.Upload(x.AsSpan(r * inDim, inDim));
                    using var y = backend.Allocate(outDim);
                    backend.MatMul(one, 1, inDim, w, outDim, bias, y);
                    var expected = new float[outDim];
                    backend.Download(y, 0, expected);
                    Assert.True(expected.AsSpan().SequenceEqual(all.AsSpan(r * outDim, outDim)),
                        $"{format} {inDim}x{outDim}, {threads} threads: row {r} of {rows} differs from its one-row pass");
                }
            }
        }
    }

    [Theory]
    [InlineData(8, 4, 64, 1, 37)]
    [InlineData(8, 4, 64, 2, 3)]
    [InlineData(4, 4, 16, 2, 0)]
    [InlineData(6, 2, 32, 1, 130)]
    [InlineData(4, 1, 48, 2, 9)]
    public void EveryRowOfAMultiRowAttentionEqualsItsOneRowPass(int heads, int kvHeads, int headDim, int threads, int startPos)
    {
        var random = new Random(heads * 1000 + startPos);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var backend = new SimdBackend(threads);
        foreach (int rows in new[] { 2, 6, 11 })
        {
            int positions = startPos + rows, qDim = heads * headDim, kvDim = kvHeads * headDim;
            using var keys = backend.Upload(Random(positions * kvDim));
            using var values = backend.Upload(Random(positions * kvDim));
            float[] q = Random(rows * qDim);
            using var qs = backend.Upload(q);
            using var output = backend.Allocate(rows * qDim);
            backend.Attention(qs, keys, values, rows, startPos, heads, kvHeads, headDim, output);
            var all = new float[rows * qDim];
            backend.Download(output, 0, all);
            for (int r = 0; r < rows; r++)
            {
                using var one = backend.Upload(q.AsSpan(r * qDim, qDim));
                using var o = backend.Allocate(qDim);
                backend.Attention(one, keys, values, 1, startPos + r, heads, kvHeads, headDim, o);
                var expected = new float[qDim];
                backend.Download(o, 0, expected);
                Assert.True(expected.AsSpan().SequenceEqual(all.AsSpan(r * qDim, qDim)),
                    $"heads {heads}/{kvHeads} x {headDim}, start {startPos}: row {r} of {rows} differs from its one-row pass");
            }
        }
    }
}
