using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// Every path sums a row in KChunk pieces, each reduced and added in order, so that a decode
/// step and a verification pass give bit-identical results.
/// </summary>
internal static unsafe class GemmKernel
{
    // Multi-row passes walk the inputs in chunks of this many columns, copied to a buffer with
    // this stride: the chunk of every input row stays in L1 (6 rows x 512 x 4 bytes = 12 KB)
    // while the weights stream past it (a down projection's 1536-wide rows would evict it), and
    // the kernels address row r at a constant offset from one register.
    internal const int KChunk = 512;

    [ThreadStatic] private static float[]? t_packed;

    public static void Run<TW>(float* x, int rows, int inDim, TW w, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TW : struct, IWeightRows
    {
        int o = oStart;
        // Decode: eight weight rows in flight per step keep more memory streams and FMA chains busy.
        if (rows == 1)
            for (; o + 8 <= oEnd; o += 8)
                if (TW.Wide) Block1x8Wide(x, inDim, w, o, bias, y, o + 16 <= oEnd);
                else Block1x8(x, inDim, w, o, bias, y, o + 16 <= oEnd);
        int blocksEnd = o + (oEnd - o) / 4 * 4;
        if (o < blocksEnd)
        {
            float[]? packed = null;
            if (rows > 1)
            {
                packed = t_packed;
                if (packed is null || packed.Length < rows * KChunk)
                    t_packed = packed = GC.AllocateUninitializedArray<float>(Math.Max(rows, 8) * KChunk, pinned: true);
            }
            float* buffer = packed is null ? null : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed));
            for (int k0 = 0; k0 < inDim; k0 += KChunk)
            {
                int k1 = Math.Min(inDim, k0 + KChunk);
                // xb + i is element i of input row 0, xb + r * KChunk + i of row r.
                float* xb = x;
                if (buffer is not null)
                {
                    for (int r = 0; r < rows; r++)
                        new ReadOnlySpan<float>(x + (long)r * inDim + k0, k1 - k0).CopyTo(new Span<float>(buffer + r * KChunk, k1 - k0));
                    xb = buffer - k0;
                }
                bool accumulate = k0 > 0;
                float* b = accumulate ? null : bias;
                for (int ob = o; ob < blocksEnd; ob += 4)
                {
                    // Only the first pass over these four weight rows requests the ones ahead.
                    bool prefetch = ob + 12 <= oEnd;
                    int r = 0;
                    for (; rows - r > 6; r += 4, prefetch = false)
                        Rows<TW, Four>(xb + r * KChunk, k0, k1, w, ob, b, y + (long)r * outDim, outDim, prefetch, accumulate);
                    // The last 1-6 rows in one pass, so verification (gamma + 1 <= 6 rows) loads, and
                    // converts, each weight once.
                    float* xr = xb + r * KChunk, yr = y + (long)r * outDim;
                    switch (rows - r)
                    {
                        case 1: Rows<TW, One>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                        case 2: Rows<TW, Two>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                        case 3: Rows<TW, Three>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                        case 4: Rows<TW, Four>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                        case 5: Rows<TW, Five>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                        case 6: Rows<TW, Six>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
                    }
                }
            }
        }
        for (o = blocksEnd; o < oEnd; o++)
            for (int r = 0; r < rows; r++)
                y[(long)r * outDim + o] = Block1x1(x + (long)r * inDim, inDim, w, o, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows<TW, TR>(float* xb, int k0, int k1, TW w, int o, float* bias, float* y, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows where TR : struct, IRowCount
    {
        if (TW.Wide) Block512<TW, TR>(xb, k0, k1, w, o, bias, y, outDim, prefetch, accumulate);
        else Block<TW, TR>(xb, k0, k1, w, o, bias, y, outDim, prefetch, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half(Vector512<float> c) => c.GetLower() + c.GetUpper();

    /// <summary>
    /// Input rows [0, TR.Count) (at most 6: 24 accumulators) against weight rows o..o+3, over
    /// columns [k0, k1). TR is a type so the JIT compiles one kernel per row count, with the
    /// unused accumulators gone. When prefetching, the weight rows 8 ahead are requested at the
    /// pace these four are consumed: far enough ahead to cover memory latency.
    /// </summary>
    // Compiled fully optimised at once: the tier-1 recompilation (with its profile) spilled the
    // accumulators of rows 2-6 to the stack at every step, which made a 5-row pass 2.5x a
    // 1-row one instead of 1.15x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TW, TR>(float* xb, int k0, int k1, TW w, int o, float* bias, float* y, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows where TR : struct, IRowCount
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3), ahead = w.Row(o + 8) - p0;
        int line = TW.ElementsPerLine - 1;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector256<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector256<float> c50 = default, c51 = default, c52 = default, c53 = default;
        int i = k0;
        for (; i + 8 <= k1; i += 8)
        {
            if (prefetch && (i & line) == 0)
            {
                w.Prefetch(p0 + ahead, i); w.Prefetch(p1 + ahead, i); w.Prefetch(p2 + ahead, i); w.Prefetch(p3 + ahead, i);
            }
            var b0 = w.Load(p0, i);
            var b1 = w.Load(p1, i);
            var b2 = w.Load(p2, i);
            var b3 = w.Load(p3, i);
            var a = Vector256.Load(xb + i);
            c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01); c02 = Fma(a, b2, c02); c03 = Fma(a, b3, c03);
            if (TR.Count > 1)
            {
                a = Vector256.Load(xb + 1 * KChunk + i);
                c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11); c12 = Fma(a, b2, c12); c13 = Fma(a, b3, c13);
            }
            if (TR.Count > 2)
            {
                a = Vector256.Load(xb + 2 * KChunk + i);
                c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21); c22 = Fma(a, b2, c22); c23 = Fma(a, b3, c23);
            }
            if (TR.Count > 3)
            {
                a = Vector256.Load(xb + 3 * KChunk + i);
                c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31); c32 = Fma(a, b2, c32); c33 = Fma(a, b3, c33);
            }
            if (TR.Count > 4)
            {
                a = Vector256.Load(xb + 4 * KChunk + i);
                c40 = Fma(a, b0, c40); c41 = Fma(a, b1, c41); c42 = Fma(a, b2, c42); c43 = Fma(a, b3, c43);
            }
            if (TR.Count > 5)
            {
                a = Vector256.Load(xb + 5 * KChunk + i);
                c50 = Fma(a, b0, c50); c51 = Fma(a, b1, c51); c52 = Fma(a, b2, c52); c53 = Fma(a, b3, c53);
            }
        }
        Store(y, o, bias, i, k1, xb, w, p0, p1, p2, p3, accumulate, c00, c01, c02, c03);
        if (TR.Count > 1) Store(y + outDim, o, bias, i, k1, xb + 1 * KChunk, w, p0, p1, p2, p3, accumulate, c10, c11, c12, c13);
        if (TR.Count > 2) Store(y + 2 * outDim, o, bias, i, k1, xb + 2 * KChunk, w, p0, p1, p2, p3, accumulate, c20, c21, c22, c23);
        if (TR.Count > 3) Store(y + 3 * outDim, o, bias, i, k1, xb + 3 * KChunk, w, p0, p1, p2, p3, accumulate, c30, c31, c32, c33);
        if (TR.Count > 4) Store(y + 4 * outDim, o, bias, i, k1, xb + 4 * KChunk, w, p0, p1, p2, p3, accumulate, c40, c41, c42, c43);
        if (TR.Count > 5) Store(y + 5 * outDim, o, bias, i, k1, xb + 5 * KChunk, w, p0, p1, p2, p3, accumulate, c50, c51, c52, c53);
    }

    // Block sixteen lanes wide, for formats whose kernels are (TW.Wide).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block512<TW, TR>(float* xb, int k0, int k1, TW w, int o, float* bias, float* y, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows where TR : struct, IRowCount
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3), ahead = w.Row(o + 8) - p0;
        int line = TW.ElementsPerLine - 1;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        int i = k0;
        for (; i + 16 <= k1; i += 16)
        {
            if (prefetch && (i & line) == 0)
            {
                w.Prefetch(p0 + ahead, i); w.Prefetch(p1 + ahead, i); w.Prefetch(p2 + ahead, i); w.Prefetch(p3 + ahead, i);
            }
            var b0 = w.Load512(p0, i);
            var b1 = w.Load512(p1, i);
            var b2 = w.Load512(p2, i);
            var b3 = w.Load512(p3, i);
            var a = Vector512.Load(xb + i);
            c00 = Fma(a, b0, c00); c01 = Fma(a, b1, c01); c02 = Fma(a, b2, c02); c03 = Fma(a, b3, c03);
            if (TR.Count > 1)
            {
                a = Vector512.Load(xb + 1 * KChunk + i);
                c10 = Fma(a, b0, c10); c11 = Fma(a, b1, c11); c12 = Fma(a, b2, c12); c13 = Fma(a, b3, c13);
            }
            if (TR.Count > 2)
            {
                a = Vector512.Load(xb + 2 * KChunk + i);
                c20 = Fma(a, b0, c20); c21 = Fma(a, b1, c21); c22 = Fma(a, b2, c22); c23 = Fma(a, b3, c23);
            }
            if (TR.Count > 3)
            {
                a = Vector512.Load(xb + 3 * KChunk + i);
                c30 = Fma(a, b0, c30); c31 = Fma(a, b1, c31); c32 = Fma(a, b2, c32); c33 = Fma(a, b3, c33);
            }
            if (TR.Count > 4)
            {
                a = Vector512.Load(xb + 4 * KChunk + i);
                c40 = Fma(a, b0, c40); c41 = Fma(a, b1, c41); c42 = Fma(a, b2, c42); c43 = Fma(a, b3, c43);
            }
            if (TR.Count > 5)
            {
                a = Vector512.Load(xb + 5 * KChunk + i);
                c50 = Fma(a, b0, c50); c51 = Fma(a, b1, c51); c52 = Fma(a, b2, c52); c53 = Fma(a, b3, c53);
            }
        }
        Store(y, o, bias, i, k1, xb, w, p0, p1, p2, p3, accumulate, Half(c00), Half(c01), Half(c02), Half(c03));
        if (TR.Count > 1) Store(y + outDim, o, bias, i, k1, xb + 1 * KChunk, w, p0, p1, p2, p3, accumulate, Half(c10), Half(c11), Half(c12), Half(c13));
        if (TR.Count > 2) Store(y + 2 * outDim, o, bias, i, k1, xb + 2 * KChunk, w, p0, p1, p2, p3, accumulate, Half(c20), Half(c21), Half(c22), Half(c23));
        if (TR.Count > 3) Store(y + 3 * outDim, o, bias, i, k1, xb + 3 * KChunk, w, p0, p1, p2, p3, accumulate, Half(c30), Half(c31), Half(c32), Half(c33));
        if (TR.Count > 4) Store(y + 4 * outDim, o, bias, i, k1, xb + 4 * KChunk, w, p0, p1, p2, p3, accumulate, Half(c40), Half(c41), Half(c42), Half(c43));
        if (TR.Count > 5) Store(y + 5 * outDim, o, bias, i, k1, xb + 5 * KChunk, w, p0, p1, p2, p3, accumulate, Half(c50), Half(c51), Half(c52), Half(c53));
    }

    // Fully optimised at once, for the reason given at Block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8<TW>(float* x, int n, TW w, int o, float* bias, float* y, bool prefetch) where TW : struct, IWeightRows
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        nint p4 = w.Row(o + 4), p5 = w.Row(o + 5), p6 = w.Row(o + 6), p7 = w.Row(o + 7);
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            int k1 = Math.Min(n, k0 + KChunk), i = k0;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            Vector256<float> c4 = default, c5 = default, c6 = default, c7 = default;
            for (; i + 8 <= k1; i += 8)
            {
                if (prefetch) RequestNext(w, p0, n, i);
                var a = Vector256.Load(x + i);
                c0 = Fma(a, w.Load(p0, i), c0);
                c1 = Fma(a, w.Load(p1, i), c1);
                c2 = Fma(a, w.Load(p2, i), c2);
                c3 = Fma(a, w.Load(p3, i), c3);
                c4 = Fma(a, w.Load(p4, i), c4);
                c5 = Fma(a, w.Load(p5, i), c5);
                c6 = Fma(a, w.Load(p6, i), c6);
                c7 = Fma(a, w.Load(p7, i), c7);
            }
            Store(y, o, k0 == 0 ? bias : null, i, k1, x, w, p0, p1, p2, p3, k0 > 0, c0, c1, c2, c3);
            Store(y, o + 4, k0 == 0 ? bias : null, i, k1, x, w, p4, p5, p6, p7, k0 > 0, c4, c5, c6, c7);
        }
    }

    // Block1x8 sixteen lanes wide, for formats whose kernels are (TW.Wide).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8Wide<TW>(float* x, int n, TW w, int o, float* bias, float* y, bool prefetch) where TW : struct, IWeightRows
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        nint p4 = w.Row(o + 4), p5 = w.Row(o + 5), p6 = w.Row(o + 6), p7 = w.Row(o + 7);
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            int k1 = Math.Min(n, k0 + KChunk), i = k0;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
            Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
            for (; i + 16 <= k1; i += 16)
            {
                if (prefetch)
                {
                    RequestNext(w, p0, n, i);
                    RequestNext(w, p0, n, i + 8);
                }
                var a = Vector512.Load(x + i);
                c0 = Fma(a, w.Load512(p0, i), c0);
                c1 = Fma(a, w.Load512(p1, i), c1);
                c2 = Fma(a, w.Load512(p2, i), c2);
                c3 = Fma(a, w.Load512(p3, i), c3);
                c4 = Fma(a, w.Load512(p4, i), c4);
                c5 = Fma(a, w.Load512(p5, i), c5);
                c6 = Fma(a, w.Load512(p6, i), c6);
                c7 = Fma(a, w.Load512(p7, i), c7);
            }
            Store(y, o, k0 == 0 ? bias : null, i, k1, x, w, p0, p1, p2, p3, k0 > 0, Half(c0), Half(c1), Half(c2), Half(c3));
            Store(y, o + 4, k0 == 0 ? bias : null, i, k1, x, w, p4, p5, p6, p7, k0 > 0, Half(c4), Half(c5), Half(c6), Half(c7));
        }
    }

    // Rows this short end before the hardware prefetcher has learnt them, so while a block's
    // eight rows stream in, the next block (contiguous, 8n elements from row p0's start) is
    // requested linearly: 64 of its elements per 8 columns, the pace this block is consumed at.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RequestNext<TW>(TW w, nint p0, int n, int i) where TW : struct, IWeightRows
    {
        int from = 8 * n + i * 8;
        for (int e = 0; e < 64; e += TW.ElementsPerLine) w.Prefetch(p0, from + e);
    }

    // One output, its chunks summed and the bias added in Store's order.
    private static float Block1x1<TW>(float* x, int n, TW w, int o, float* bias) where TW : struct, IWeightRows
    {
        nint p = w.Row(o);
        float s = 0f;
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            int k1 = Math.Min(n, k0 + KChunk), i = k0;
            Vector256<float> c = default;
            float part;
            if (TW.Wide)
            {
                Vector512<float> c16 = default;
                for (; i + 16 <= k1; i += 16) c16 = Fma(Vector512.Load(x + i), w.Load512(p, i), c16);
                part = Vector256.Sum(Half(c16));
            }
            else
            {
                for (; i + 8 <= k1; i += 8) c = Fma(Vector256.Load(x + i), w.Load(p, i), c);
                part = Vector256.Sum(c);
            }
            for (; i < k1; i++) part += x[i] * w.At(p, i);
            s = k0 > 0 ? part + s : bias is null ? part : part + bias[o];
        }
        return s;
    }

    // Finishes four dot products over a chunk: horizontal sums, the scalar tail past the last
    // full vector, the bias (first chunk) or the earlier chunks' sum (later ones).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TW>(float* y, int o, float* bias, int i, int n, float* x, TW w, nint p0, nint p1, nint p2, nint p3, bool accumulate,
        Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3) where TW : struct, IWeightRows
    {
        float s0 = Vector256.Sum(c0), s1 = Vector256.Sum(c1), s2 = Vector256.Sum(c2), s3 = Vector256.Sum(c3);
        for (; i < n; i++)
        {
            s0 += x[i] * w.At(p0, i);
            s1 += x[i] * w.At(p1, i);
            s2 += x[i] * w.At(p2, i);
            s3 += x[i] * w.At(p3, i);
        }
        if (bias is not null)
        {
            s0 += bias[o]; s1 += bias[o + 1]; s2 += bias[o + 2]; s3 += bias[o + 3];
        }
        if (accumulate)
        {
            s0 += y[o]; s1 += y[o + 1]; s2 += y[o + 2]; s3 += y[o + 3];
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
