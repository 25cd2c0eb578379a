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
                if (TW.Wide) Block1x8<TW, Lanes16, Vector512<float>>(x, inDim, w, o, bias, y, o + 16 <= oEnd);
                else Block1x8<TW, Lanes8, Vector256<float>>(x, inDim, w, o, bias, y, o + 16 <= oEnd);
        int blocksEnd = o + (oEnd - o) / 4 * 4;
        if (o < blocksEnd)
        {
            if (rows > 1 && rows <= 6) Verification(x, rows, inDim, w, o, blocksEnd, oEnd, bias, y, outDim);
            else Chunked(x, rows, inDim, w, o, blocksEnd, oEnd, bias, y, outDim);
        }
        for (o = blocksEnd; o < oEnd; o++)
            for (int r = 0; r < rows; r++)
                y[(long)r * outDim + o] = TW.Wide
                    ? Block1x1<TW, Lanes16, Vector512<float>>(x + (long)r * inDim, inDim, w, o, bias)
                    : Block1x1<TW, Lanes8, Vector256<float>>(x + (long)r * inDim, inDim, w, o, bias);
    }

    // A prompt: KChunk columns of every input row at a time, against all the weight rows, so the
    // inputs' chunk stays in L1 while the weights stream past it.
    private static void Chunked<TW>(float* x, int rows, int inDim, TW w, int o, int blocksEnd, int oEnd, float* bias, float* y, int outDim)
        where TW : struct, IWeightRows
    {
        float* buffer = rows > 1 ? Packed(rows * KChunk) : null;
        for (int k0 = 0; k0 < inDim; k0 += KChunk)
        {
            int k1 = Math.Min(inDim, k0 + KChunk);
            // xb + i is element i of input row 0, xb + r * KChunk + i of row r.
            float* xb = x;
            if (buffer is not null)
            {
                Pack(x, rows, inDim, k0, k1, buffer);
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
                Last<TW>(rows - r, xb + r * KChunk, k0, k1, w, ob, b, y + (long)r * outDim, outDim, prefetch, accumulate);
            }
        }
    }

    // A verification pass (2-6 rows): each block of four weight rows read whole, chunk after chunk,
    // before the next: the weights stream in order (a prompt's chunk-major order reads every row
    // in KChunk pieces, pass after pass, which the hardware prefetchers follow badly: 5 rows then
    // cost 1.6x a decode step on Qwen2.5-0.5B's 896-wide rows, 1.0x this way). Every chunk of every
    // input row is packed once, and they stay in L1 or L2 (6 x 4864 floats = 117 KB). The sums are
    // the chunk-major order's, chunk by chunk, so the outputs are too.
    private static void Verification<TW>(float* x, int rows, int inDim, TW w, int o, int blocksEnd, int oEnd, float* bias, float* y, int outDim)
        where TW : struct, IWeightRows
    {
        int chunks = (inDim + KChunk - 1) / KChunk;
        float* buffer = Packed(chunks * rows * KChunk);
        for (int c = 0; c < chunks; c++) Pack(x, rows, inDim, c * KChunk, Math.Min(inDim, (c + 1) * KChunk), buffer + c * rows * KChunk);
        for (int ob = o; ob < blocksEnd; ob += 4)
        {
            bool prefetch = ob + 12 <= oEnd;
            for (int c = 0; c < chunks; c++)
            {
                int k0 = c * KChunk, k1 = Math.Min(inDim, k0 + KChunk);
                Last<TW>(rows, buffer + c * rows * KChunk - k0, k0, k1, w, ob, k0 > 0 ? null : bias, y, outDim, prefetch, k0 > 0);
            }
        }
    }

    // The last 1-6 rows in one pass, so verification (gamma + 1 <= 6 rows) loads, and converts, each weight once.
    private static void Last<TW>(int count, float* xr, int k0, int k1, TW w, int ob, float* b, float* yr, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows
    {
        switch (count)
        {
            case 1: Rows<TW, One>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
            case 2: Rows<TW, Two>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
            case 3: Rows<TW, Three>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
            case 4: Rows<TW, Four>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
            case 5: Rows<TW, Five>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
            case 6: Rows<TW, Six>(xr, k0, k1, w, ob, b, yr, outDim, prefetch, accumulate); break;
        }
    }

    // Columns [k0, k1) of every input row into `to`, row r at r * KChunk.
    private static void Pack(float* x, int rows, int inDim, int k0, int k1, float* to)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(x + (long)r * inDim + k0, k1 - k0).CopyTo(new Span<float>(to + r * KChunk, k1 - k0));
    }

    // This thread's pinned input buffer, at least `floats` long.
    private static float* Packed(int floats)
    {
        var packed = t_packed;
        if (packed is null || packed.Length < floats)
            t_packed = packed = GC.AllocateUninitializedArray<float>(Math.Max(floats, 8 * KChunk), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(packed));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows<TW, TR>(float* xb, int k0, int k1, TW w, int o, float* bias, float* y, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows where TR : struct, IRowCount
    {
        if (TW.Wide) Block<TW, TR, Lanes16, Vector512<float>>(xb, k0, k1, w, o, bias, y, outDim, prefetch, accumulate);
        else Block<TW, TR, Lanes8, Vector256<float>>(xb, k0, k1, w, o, bias, y, outDim, prefetch, accumulate);
    }

    /// <summary>
    /// Input rows [0, TR.Count) (at most 6: 24 accumulators) against weight rows o..o+3, over
    /// columns [k0, k1), TL.Count lanes at a time. TR and TL are types so the JIT compiles one
    /// kernel per row count and width, with the unused accumulators gone. When prefetching, the
    /// weight rows 8 ahead are requested at the pace these four are consumed: far enough ahead
    /// to cover memory latency.
    /// </summary>
    // Compiled fully optimised at once: the tier-1 recompilation (with its profile) spilled the
    // accumulators of rows 2-6 to the stack at every step, which made a 5-row pass 2.5x a
    // 1-row one instead of 1.15x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TW, TR, TL, TV>(float* xb, int k0, int k1, TW w, int o, float* bias, float* y, int outDim, bool prefetch, bool accumulate)
        where TW : struct, IWeightRows where TR : struct, IRowCount where TL : struct, ILanes<TV> where TV : struct
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3), ahead = w.Row(o + 8) - p0;
        int line = TW.ElementsPerLine - 1;
        TV c00 = default, c01 = default, c02 = default, c03 = default;
        TV c10 = default, c11 = default, c12 = default, c13 = default;
        TV c20 = default, c21 = default, c22 = default, c23 = default;
        TV c30 = default, c31 = default, c32 = default, c33 = default;
        TV c40 = default, c41 = default, c42 = default, c43 = default;
        TV c50 = default, c51 = default, c52 = default, c53 = default;
        int i = k0;
        for (; i + TL.Count <= k1; i += TL.Count)
        {
            if (prefetch && (i & line) == 0)
            {
                w.Prefetch(p0 + ahead, i); w.Prefetch(p1 + ahead, i); w.Prefetch(p2 + ahead, i); w.Prefetch(p3 + ahead, i);
            }
            var b0 = TL.Weights(w, p0, i);
            var b1 = TL.Weights(w, p1, i);
            var b2 = TL.Weights(w, p2, i);
            var b3 = TL.Weights(w, p3, i);
            var a = TL.Load(xb + i);
            c00 = TL.Fma(a, b0, c00); c01 = TL.Fma(a, b1, c01); c02 = TL.Fma(a, b2, c02); c03 = TL.Fma(a, b3, c03);
            if (TR.Count > 1)
            {
                a = TL.Load(xb + 1 * KChunk + i);
                c10 = TL.Fma(a, b0, c10); c11 = TL.Fma(a, b1, c11); c12 = TL.Fma(a, b2, c12); c13 = TL.Fma(a, b3, c13);
            }
            if (TR.Count > 2)
            {
                a = TL.Load(xb + 2 * KChunk + i);
                c20 = TL.Fma(a, b0, c20); c21 = TL.Fma(a, b1, c21); c22 = TL.Fma(a, b2, c22); c23 = TL.Fma(a, b3, c23);
            }
            if (TR.Count > 3)
            {
                a = TL.Load(xb + 3 * KChunk + i);
                c30 = TL.Fma(a, b0, c30); c31 = TL.Fma(a, b1, c31); c32 = TL.Fma(a, b2, c32); c33 = TL.Fma(a, b3, c33);
            }
            if (TR.Count > 4)
            {
                a = TL.Load(xb + 4 * KChunk + i);
                c40 = TL.Fma(a, b0, c40); c41 = TL.Fma(a, b1, c41); c42 = TL.Fma(a, b2, c42); c43 = TL.Fma(a, b3, c43);
            }
            if (TR.Count > 5)
            {
                a = TL.Load(xb + 5 * KChunk + i);
                c50 = TL.Fma(a, b0, c50); c51 = TL.Fma(a, b1, c51); c52 = TL.Fma(a, b2, c52); c53 = TL.Fma(a, b3, c53);
            }
        }
        Store(y, o, bias, i, k1, xb, w, p0, p1, p2, p3, accumulate, TL.Half(c00), TL.Half(c01), TL.Half(c02), TL.Half(c03));
        if (TR.Count > 1) Store(y + outDim, o, bias, i, k1, xb + 1 * KChunk, w, p0, p1, p2, p3, accumulate, TL.Half(c10), TL.Half(c11), TL.Half(c12), TL.Half(c13));
        if (TR.Count > 2) Store(y + 2 * outDim, o, bias, i, k1, xb + 2 * KChunk, w, p0, p1, p2, p3, accumulate, TL.Half(c20), TL.Half(c21), TL.Half(c22), TL.Half(c23));
        if (TR.Count > 3) Store(y + 3 * outDim, o, bias, i, k1, xb + 3 * KChunk, w, p0, p1, p2, p3, accumulate, TL.Half(c30), TL.Half(c31), TL.Half(c32), TL.Half(c33));
        if (TR.Count > 4) Store(y + 4 * outDim, o, bias, i, k1, xb + 4 * KChunk, w, p0, p1, p2, p3, accumulate, TL.Half(c40), TL.Half(c41), TL.Half(c42), TL.Half(c43));
        if (TR.Count > 5) Store(y + 5 * outDim, o, bias, i, k1, xb + 5 * KChunk, w, p0, p1, p2, p3, accumulate, TL.Half(c50), TL.Half(c51), TL.Half(c52), TL.Half(c53));
    }

    // Fully optimised at once, for the reason given at Block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block1x8<TW, TL, TV>(float* x, int n, TW w, int o, float* bias, float* y, bool prefetch)
        where TW : struct, IWeightRows where TL : struct, ILanes<TV> where TV : struct
    {
        nint p0 = w.Row(o), p1 = w.Row(o + 1), p2 = w.Row(o + 2), p3 = w.Row(o + 3);
        nint p4 = w.Row(o + 4), p5 = w.Row(o + 5), p6 = w.Row(o + 6), p7 = w.Row(o + 7);
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            int k1 = Math.Min(n, k0 + KChunk), i = k0;
            TV c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (; i + TL.Count <= k1; i += TL.Count)
            {
                if (prefetch)
                    for (int part = 0; part < TL.Count; part += 8) RequestNext(w, p0, n, i + part);
                var a = TL.Load(x + i);
                c0 = TL.Fma(a, TL.Weights(w, p0, i), c0);
                c1 = TL.Fma(a, TL.Weights(w, p1, i), c1);
                c2 = TL.Fma(a, TL.Weights(w, p2, i), c2);
                c3 = TL.Fma(a, TL.Weights(w, p3, i), c3);
                c4 = TL.Fma(a, TL.Weights(w, p4, i), c4);
                c5 = TL.Fma(a, TL.Weights(w, p5, i), c5);
                c6 = TL.Fma(a, TL.Weights(w, p6, i), c6);
                c7 = TL.Fma(a, TL.Weights(w, p7, i), c7);
            }
            Store(y, o, k0 == 0 ? bias : null, i, k1, x, w, p0, p1, p2, p3, k0 > 0, TL.Half(c0), TL.Half(c1), TL.Half(c2), TL.Half(c3));
            Store(y, o + 4, k0 == 0 ? bias : null, i, k1, x, w, p4, p5, p6, p7, k0 > 0, TL.Half(c4), TL.Half(c5), TL.Half(c6), TL.Half(c7));
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
    private static float Block1x1<TW, TL, TV>(float* x, int n, TW w, int o, float* bias)
        where TW : struct, IWeightRows where TL : struct, ILanes<TV> where TV : struct
    {
        nint p = w.Row(o);
        float s = 0f;
        for (int k0 = 0; k0 < n; k0 += KChunk)
        {
            int k1 = Math.Min(n, k0 + KChunk), i = k0;
            TV c = default;
            for (; i + TL.Count <= k1; i += TL.Count) c = TL.Fma(TL.Load(x + i), TL.Weights(w, p, i), c);
            float part = Vector256.Sum(TL.Half(c));
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

/// <summary>
/// The vector width a GemmKernel kernel runs at, as a type the JIT specialises on: loads, FMAs,
/// weights read through IWeightRows, and the fold to 8 lanes before a horizontal sum.
/// </summary>
internal unsafe interface ILanes<TV> where TV : struct
{
    static abstract int Count { get; }

    static abstract TV Load(float* x);

    static abstract TV Fma(TV a, TV b, TV c);

    static abstract TV Weights<TW>(TW w, nint row, int i) where TW : struct, IWeightRows;

    static abstract Vector256<float> Half(TV c);
}

internal unsafe struct Lanes8 : ILanes<Vector256<float>>
{
    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* x) => Vector256.Load(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Weights<TW>(TW w, nint row, int i) where TW : struct, IWeightRows => w.Load(row, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Half(Vector256<float> c) => c;
}

internal unsafe struct Lanes16 : ILanes<Vector512<float>>
{
    public static int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* x) => Vector512.Load(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Weights<TW>(TW w, nint row, int i) where TW : struct, IWeightRows => w.Load512(row, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Half(Vector512<float> c) => c.GetLower() + c.GetUpper();
}
