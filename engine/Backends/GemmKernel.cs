using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// y (rows, outDim) = x (rows, inDim) * W (outDim, inDim)^T + b, for output columns
/// [oStart, oEnd). Register-blocked up to 6 x 4: each step loads up to 6 input and 4 weight
/// vectors and does up to 24 FMAs, so a weight row fetched from memory (and converted from
/// BF16) is reused by every input row of the pass from registers.
/// Rows this short (256-1024) end before the hardware prefetcher has learnt them, so the
/// kernels request the weight rows ahead in software.
/// </summary>
internal static unsafe class GemmKernel
{
    public static void Run<TW>(float* x, int rows, int inDim, TW w, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TW : struct, IWeightRows
    {
        int o = oStart;
        // Decode: eight weight rows in flight per step keep more memory streams and FMA chains busy.
        if (rows == 1)
            for (; o + 8 <= oEnd; o += 8) Block1x8(x, inDim, w, o, bias, y, o + 16 <= oEnd);
        for (; o + 4 <= oEnd; o += 4)
        {
            // Only the first pass over these four weight rows requests the ones ahead.
            bool prefetch = o + 12 <= oEnd;
            int r = 0;
            for (; rows - r > 6; r += 4, prefetch = false) Block<TW, Four>(x + (long)r * inDim, inDim, w, o, bias, y + (long)r * outDim, outDim, prefetch);
            // The last 1-6 rows in one pass, so verification (gamma + 1 <= 6 rows) loads, and
            // converts, each weight once.
            float* xr = x + (long)r * inDim, yr = y + (long)r * outDim;
            switch (rows - r)
            {
                case 1: Block<TW, One>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
                case 2: Block<TW, Two>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
                case 3: Block<TW, Three>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
                case 4: Block<TW, Four>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
                case 5: Block<TW, Five>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
                case 6: Block<TW, Six>(xr, inDim, w, o, bias, yr, outDim, prefetch); break;
            }
        }
        for (; o < oEnd; o++)
            for (int r = 0; r < rows; r++)
                y[(long)r * outDim + o] = Block1x1(x + (long)r * inDim, inDim, w, o) + (bias is null ? 0f : bias[o]);
    }

    // Requests weight elements [from, from + count) of the row-major matrix, one prefetch per cache line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Request<TW>(TW w, long from, int count) where TW : struct, IWeightRows
    {
        for (int e = 0; e < count; e += w.ElementsPerLine) w.Prefetch(from + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>
    /// Input rows [0, TR.Count) (at most 6: 24 accumulators, 32 vector registers with AVX-512) against weight rows o..o+3. TR is a type so the JIT
    /// compiles one kernel per row count, with the unused accumulators gone. When prefetching,
    /// the weight rows 8 ahead are requested at the pace these four are consumed: far enough
    /// ahead to cover memory latency at 256-1024 wide rows.
    /// </summary>
    // Compiled fully optimised at once: the tier-1 recompilation (with its profile) spilled the
    // accumulators of rows 2-6 to the stack at every step, which made a 5-row pass 2.5x a
    // 1-row one instead of 1.15x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TW, TR>(float* x, int n, TW w, int o, float* bias, float* y, int outDim, bool prefetch)
        where TW : struct, IWeightRows where TR : struct, IRowCount
    {
        long ahead = (o + 8L) * n;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector256<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector256<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* x1 = x + n, x2 = x1 + n, x3 = x2 + n, x4 = x3 + n, x5 = x4 + n;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            if (prefetch) Request(w, ahead + i * 4L, 32);
            var b0 = w.Load(o, i);
            var b1 = w.Load(o + 1, i);
            var b2 = w.Load(o + 2, i);
            var b3 = w.Load(o + 3, i);
            var a = Vector256.Load(x + i);
            c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01); c02 = Fma(a, b2, c02); c03 = Fma(a, b3, c03);
            if (TR.Count > 1)
            {
                a = Vector256.Load(x1 + i);
                c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11); c12 = Fma(a, b2, c12); c13 = Fma(a, b3, c13);
            }
            if (TR.Count > 2)
            {
                a = Vector256.Load(x2 + i);
                c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21); c22 = Fma(a, b2, c22); c23 = Fma(a, b3, c23);
            }
            if (TR.Count > 3)
            {
                a = Vector256.Load(x3 + i);
                c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31); c32 = Fma(a, b2, c32); c33 = Fma(a, b3, c33);
            }
            if (TR.Count > 4)
            {
                a = Vector256.Load(x4 + i);
                c40 = Fma(a, b0, c40); c41 = Fma(a, b1, c41); c42 = Fma(a, b2, c42); c43 = Fma(a, b3, c43);
            }
            if (TR.Count > 5)
            {
                a = Vector256.Load(x5 + i);
                c50 = Fma(a, b0, c50); c51 = Fma(a, b1, c51); c52 = Fma(a, b2, c52); c53 = Fma(a, b3, c53);
            }
        }
        Store(y, o, bias, i, n, x, w, c00, c01, c02, c03);
        if (TR.Count > 1) Store(y + outDim, o, bias, i, n, x1, w, c10, c11, c12, c13);
        if (TR.Count > 2) Store(y + 2 * outDim, o, bias, i, n, x2, w, c20, c21, c22, c23);
        if (TR.Count > 3) Store(y + 3 * outDim, o, bias, i, n, x3, w, c30, c31, c32, c33);
        if (TR.Count > 4) Store(y + 4 * outDim, o, bias, i, n, x4, w, c40, c41, c42, c43);
        if (TR.Count > 5) Store(y + 5 * outDim, o, bias, i, n, x5, w, c50, c51, c52, c53);
    }

    // Fully optimised at once, for the reason given at Block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8<TW>(float* x, int n, TW w, int o, float* bias, float* y, bool prefetch) where TW : struct, IWeightRows
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<float> c4 = default, c5 = default, c6 = default, c7 = default;
        // Rows this short end before the hardware prefetcher has learnt them, so while this
        // block's eight rows stream in, the next block (contiguous, 8n elements) is requested
        // linearly: 64 of its elements per step, the same pace this block is consumed at.
        long next = (o + 8L) * n;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            if (prefetch) Request(w, next + i * 8L, 64);
            var a = Vector256.Load(x + i);
            c0 = Fma(a, w.Load(o, i), c0);
            c1 = Fma(a, w.Load(o + 1, i), c1);
            c2 = Fma(a, w.Load(o + 2, i), c2);
            c3 = Fma(a, w.Load(o + 3, i), c3);
            c4 = Fma(a, w.Load(o + 4, i), c4);
            c5 = Fma(a, w.Load(o + 5, i), c5);
            c6 = Fma(a, w.Load(o + 6, i), c6);
            c7 = Fma(a, w.Load(o + 7, i), c7);
        }
        Store(y, o, bias, i, n, x, w, c0, c1, c2, c3);
        Store(y, o + 4, bias, i, n, x, w, c4, c5, c6, c7);
    }

    private static float Block1x1<TW>(float* x, int n, TW w, int o) where TW : struct, IWeightRows
    {
        Vector256<float> c = default;
        int i = 0;
        for (; i + 8 <= n; i += 8) c = Fma(Vector256.Load(x + i), w.Load(o, i), c);
        float s = Vector256.Sum(c);
        for (; i < n; i++) s += x[i] * w.At(o, i);
        return s;
    }

    // Finishes four dot products: horizontal sums, the scalar tail past the last full vector, bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TW>(float* y, int o, float* bias, int i, int n, float* x, TW w,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3) where TW : struct, IWeightRows
    {
        float s0 = Vector256.Sum(c0), s1 = Vector256.Sum(c1), s2 = Vector256.Sum(c2), s3 = Vector256.Sum(c3);
        for (; i < n; i++)
        {
            s0 += x[i] * w.At(o, i);
            s1 += x[i] * w.At(o + 1, i);
            s2 += x[i] * w.At(o + 2, i);
            s3 += x[i] * w.At(o + 3, i);
        }
        if (bias is not null)
        {
            s0 += bias[o]; s1 += bias[o + 1]; s2 += bias[o + 2]; s3 += bias[o + 3];
        }
        y[o] = s0; y[o + 1] = s1; y[o + 2] = s2; y[o + 3] = s3;
    }
}

/// <summary>How many input rows a GemmKernel block handles, as a type the JIT specialises on.</summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

internal struct One : IRowCount { public static int Count => 1; }
internal struct Two : IRowCount { public static int Count => 2; }
internal struct Three : IRowCount { public static int Count => 3; }
internal struct Four : IRowCount { public static int Count => 4; }
internal struct Five : IRowCount { public static int Count => 5; }
internal struct Six : IRowCount { public static int Count => 6; }
