using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// y = x W^T + b for K-quant W (Q4_K, Q5_K, Q6_K) in InterleavedBlocks, against Q8_K activations
/// (an f32 scale per 256, sums of 16), on AVX2. Per super-block of 8 outputs and input row: chunk
/// by chunk, vpmaddubsw of 4 unsigned weights of each output with 4 broadcast quants, summed in
/// int16 while that stays exact (TF.Widen chunks), then vpmaddwd by the 16 weights' scale
/// repeated in each int16 pair, so the int32 lanes stay the 8 outputs; the offsets (Q4_K/Q5_K
/// mins, Q6_K's 32 * scale) meet the row's sums of 16 by vpmaddwd too; then two FMAs per
/// super-block and row. Integer sums are exact, so every row count gives the same outputs.
/// </summary>
internal static unsafe class InterleavedSuperGemm
{
    public static void Rows<TF>(ActivationBlocks a, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TF : struct, ISuperChunks
    {
        if (a.BlockSize != 256) throw new ArgumentException($"K-quant weights take activations in blocks of 256, got {a.BlockSize}", nameof(a));
        BlockGemm.Rows<Groups<TF>>(a, w, rowBytes, g0, g1, bias, y, outDim);
    }

    // One format's kernel as BlockGemm.Rows takes it, its output range in groups of 8.
    private struct Groups<TF> : IBlockKernel where TF : struct, ISuperChunks
    {
        public static void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
            where TR : struct, IRowCount => Kernel<TF, TR>(a, r0, w, rowBytes, g0, g1, bias, y, outDim);
    }

    private static void Kernel<TF, TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TF : struct, ISuperChunks where TR : struct, IRowCount
    {
        int n = a.Cols, supers = n / 256, stride = InterleavedBlocks.Outputs * TF.BlockBytes, sumsPerRow = n / 16;
        sbyte* x = a.Quants + (long)r0 * n;
        float* dx = a.Scales + (long)r0 * supers;
        short* sums = a.Sums + (long)r0 * sumsPerRow;
        for (int g = g0; g < g1; g++)
        {
            byte* sb = w + (long)g * InterleavedBlocks.Outputs * rowBytes;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            for (int s = 0; s < supers; s++, sb += stride)
            {
                if (Sse.IsSupported)
                    for (int line = 0; line < stride; line += 64) Sse.Prefetch0(sb + stride + line);
                Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default;
                sbyte* xs = x + 256 * s;
                for (int j = 0; j < 8; j++)
                {
                    TF.ScalePairs(sb, j, out var lo, out var hi);
                    sbyte* xj = xs + 32 * j;
                    Vector256<short> t0 = default, t1 = default, t2 = default, t3 = default, t4 = default, t5 = default;
                    // Unrolled: a constant k settles the widening points at compile time.
                    Step<TF, TR>(sb, j, 0, xj, n, lo, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 1, xj, n, lo, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 2, xj, n, lo, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 3, xj, n, lo, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 4, xj, n, hi, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 5, xj, n, hi, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 6, xj, n, hi, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                    Step<TF, TR>(sb, j, 7, xj, n, hi, ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref i0, ref i1, ref i2, ref i3, ref i4, ref i5);
                }
                Vector256<int> m0 = default, m1 = default, m2 = default, m3 = default, m4 = default, m5 = default;
                short* ss = sums + 16 * s;
                for (int p = 0; p < 8; p++)
                {
                    var offsets = TF.OffsetPair(sb, p);
                    m0 += OffsetDot(offsets, ss + 2 * p);
                    if (TR.Count > 1) m1 += OffsetDot(offsets, ss + sumsPerRow + 2 * p);
                    if (TR.Count > 2) m2 += OffsetDot(offsets, ss + 2 * sumsPerRow + 2 * p);
                    if (TR.Count > 3) m3 += OffsetDot(offsets, ss + 3 * sumsPerRow + 2 * p);
                    if (TR.Count > 4) m4 += OffsetDot(offsets, ss + 4 * sumsPerRow + 2 * p);
                    if (TR.Count > 5) m5 += OffsetDot(offsets, ss + 5 * sumsPerRow + 2 * p);
                }
                Vector256<float> dw = TF.D(sb), dOffset = TF.DOffset(sb);
                c0 = Finish<TF>(c0, i0, m0, dw, dOffset, dx[s]);
                if (TR.Count > 1) c1 = Finish<TF>(c1, i1, m1, dw, dOffset, dx[supers + s]);
                if (TR.Count > 2) c2 = Finish<TF>(c2, i2, m2, dw, dOffset, dx[2 * supers + s]);
                if (TR.Count > 3) c3 = Finish<TF>(c3, i3, m3, dw, dOffset, dx[3 * supers + s]);
                if (TR.Count > 4) c4 = Finish<TF>(c4, i4, m4, dw, dOffset, dx[4 * supers + s]);
                if (TR.Count > 5) c5 = Finish<TF>(c5, i5, m5, dw, dOffset, dx[5 * supers + s]);
            }
            InterleavedGemm.Store<TR>(y, outDim, r0, g * InterleavedBlocks.Outputs, bias, c0, c1, c2, c3, c4, c5);
        }
    }

    // Chunk k of sub-block j times every row's quants 32j + 4k..; every TF.Widen chunks the int16 sums go to int32, scaled.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TF, TR>(byte* sb, int j, int k, sbyte* xj, int n, Vector256<short> scale,
        ref Vector256<short> t0, ref Vector256<short> t1, ref Vector256<short> t2, ref Vector256<short> t3, ref Vector256<short> t4, ref Vector256<short> t5,
        ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3, ref Vector256<int> i4, ref Vector256<int> i5)
        where TF : struct, ISuperChunks where TR : struct, IRowCount
    {
        var chunk = TF.Chunk(sb, j, k);
        sbyte* xk = xj + 4 * k;
        t0 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk));
        if (TR.Count > 1) t1 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk + n));
        if (TR.Count > 2) t2 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk + 2 * n));
        if (TR.Count > 3) t3 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk + 3 * n));
        if (TR.Count > 4) t4 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk + 4 * n));
        if (TR.Count > 5) t5 += Avx2.MultiplyAddAdjacent(chunk, Broadcast(xk + 5 * n));
        if ((k + 1) % TF.Widen != 0) return;
        i0 += Avx2.MultiplyAddAdjacent(t0, scale);
        if (TR.Count > 1) i1 += Avx2.MultiplyAddAdjacent(t1, scale);
        if (TR.Count > 2) i2 += Avx2.MultiplyAddAdjacent(t2, scale);
        if (TR.Count > 3) i3 += Avx2.MultiplyAddAdjacent(t3, scale);
        if (TR.Count > 4) i4 += Avx2.MultiplyAddAdjacent(t4, scale);
        if (TR.Count > 5) i5 += Avx2.MultiplyAddAdjacent(t5, scale);
        t0 = t1 = t2 = t3 = t4 = t5 = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* x) => Vector256.Create(*(int*)x).AsSByte();

    // Each output's offsets of halves 2p and 2p + 1 times the row's sums of those 16 quants.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> OffsetDot(Vector256<short> offsets, short* sums) =>
        Avx2.MultiplyAddAdjacent(offsets, Vector256.Create(*(int*)sums).AsInt16());

    // Where the offsets share the weights' scale (Q6_K), their difference is taken in int32, exactly,
    // rather than as two large f32 terms that cancel (as ggml does: one rounding per super-block).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TF>(Vector256<float> c, Vector256<int> dots, Vector256<int> offsetDots, Vector256<float> dw, Vector256<float> dOffset, float dx)
        where TF : struct, ISuperChunks
    {
        if (TF.OffsetsShareScale) return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dots - offsetDots), dw * Vector256.Create(dx), c);
        c = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dots), dw * Vector256.Create(dx), c);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(offsetDots), dOffset * Vector256.Create(-dx), c);
    }
}

/// <summary>One K-quant format's interleaved super-block (InterleavedBlocks, BlockFields) as InterleavedSuperGemm reads it.</summary>
internal unsafe interface ISuperChunks
{
    static abstract int BlockBytes { get; }

    /// <summary>Chunks whose vpmaddubsw products still sum exactly in int16 (2 * max quant * 127 per chunk).</summary>
    static abstract int Widen { get; }

    /// <summary>Weights 32j + 4k .. + 3 of the 8 outputs, unsigned.</summary>
    static abstract Vector256<byte> Chunk(byte* sb, int j, int k);

    /// <summary>Each output's integer scale of weights 32j.. (lo) and 32j + 16.. (hi), in both int16 halves of its lane.</summary>
    static abstract void ScalePairs(byte* sb, int j, out Vector256<short> lo, out Vector256<short> hi);

    /// <summary>Each output's integer offsets of weights 32p.. and 32p + 16.., in the low and high int16 of its lane.</summary>
    static abstract Vector256<short> OffsetPair(byte* sb, int p);

    static abstract Vector256<float> D(byte* sb);

    static abstract Vector256<float> DOffset(byte* sb);

    /// <summary>Whether DOffset is D, so that dots and offsets can be subtracted as integers.</summary>
    static abstract bool OffsetsShareScale { get; }
}

/// <summary>Lane helpers shared by the K-quant layouts.</summary>
internal static unsafe class SuperLanes
{
    /// <summary>Byte b of each of the 8 outputs (one 8-byte plane), zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Plane(byte* at) => Avx2.ConvertToVector256Int32(at);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> SignedPlane(byte* at) => Avx2.ConvertToVector256Int32((sbyte*)at);

    /// <summary>Lanes (low, high) as int16 pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Pair(Vector256<int> low, Vector256<int> high) => ((low & Vector256.Create(0xFFFF)) | (high << 16)).AsInt16();

    /// <summary>Bytes shifted right by `bits` (&lt; 8), keeping `mask`.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Bits(Vector256<byte> v, int bits, byte mask) =>
        Vector256.ShiftRightLogical(v.AsUInt16(), bits).AsByte() & Vector256.Create(mask);

    /// <summary>Bytes (each &lt; 16) times 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Times16(Vector256<byte> v) => Vector256.ShiftLeft(v.AsUInt16(), 4).AsByte();
}

/// <summary>Q4_K interleaved: f16 d at 0, dmin at 16, 12 planes of packed 6-bit scales and mins at 32, nibble words at 128.</summary>
internal unsafe struct Q4KChunks : ISuperChunks
{
    public static int BlockBytes => Q4KBlock.BlockBytes;
    public static int Widen => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Chunk(byte* sb, int j, int k) => Nibbles(sb + 128, j, k);

    // Sub-block j's nibbles: words 8 (j / 2) + k, low halves for even j.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* words, int j, int k) =>
        SuperLanes.Bits(Vector256.Load(words + 32 * (8 * (j >> 1) + k)), 4 * (j & 1), 0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalePairs(byte* sb, int j, out Vector256<short> lo, out Vector256<short> hi)
    {
        var scale = ScaleOrMin(sb + 32, j, min: false);
        lo = hi = SuperLanes.Pair(scale, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> OffsetPair(byte* sb, int p)
    {
        var min = ScaleOrMin(sb + 32, p, min: true);
        return SuperLanes.Pair(min, min);
    }

    public static Vector256<float> D(byte* sb) => InterleavedGemm.Halves(sb);
    public static Vector256<float> DOffset(byte* sb) => InterleavedGemm.Halves(sb + 16);
    public static bool OffsetsShareScale => false;

    // KQuantFit.UnpackScaleMin on 8 outputs at once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ScaleOrMin(byte* planes, int j, bool min)
    {
        var six = Vector256.Create(63);
        if (j < 4) return SuperLanes.Plane(planes + 8 * (min ? j + 4 : j)) & six;
        var packed = SuperLanes.Plane(planes + 8 * (j + 4));
        var top = Vector256.ShiftRightLogical(SuperLanes.Plane(planes + 8 * (min ? j : j - 4)), 6) << 4;
        return (min ? Vector256.ShiftRightLogical(packed, 4) : packed & Vector256.Create(0xF)) | top;
    }
}

/// <summary>Q5_K interleaved: as Q4_K, with the fifth bits' words at 128 and the nibble words at 384.</summary>
internal unsafe struct Q5KChunks : ISuperChunks
{
    public static int BlockBytes => Q5KBlock.BlockBytes;
    public static int Widen => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Chunk(byte* sb, int j, int k) =>
        Q4KChunks.Nibbles(sb + 384, j, k) | SuperLanes.Times16(SuperLanes.Bits(Vector256.Load(sb + 128 + 32 * k), j, 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalePairs(byte* sb, int j, out Vector256<short> lo, out Vector256<short> hi) => Q4KChunks.ScalePairs(sb, j, out lo, out hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> OffsetPair(byte* sb, int p) => Q4KChunks.OffsetPair(sb, p);

    public static Vector256<float> D(byte* sb) => InterleavedGemm.Halves(sb);
    public static Vector256<float> DOffset(byte* sb) => InterleavedGemm.Halves(sb + 16);
    public static bool OffsetsShareScale => false;
}

/// <summary>Q6_K interleaved: low-nibble words at 0, 2-bit words at 1024, 16 planes of int8 scales at 1536, f16 d at 1664.</summary>
internal unsafe struct Q6KChunks : ISuperChunks
{
    public static int BlockBytes => Q6KBlock.BlockBytes;
    public static int Widen => 2;

    // Sub-block j = 4h + q of half h: low nibbles from words 16h + 8 (q & 1) + k (high halves for q >= 2), two more bits from words 8h + k at 2q.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Chunk(byte* sb, int j, int k)
    {
        int h = j >> 2, q = j & 3;
        var low = SuperLanes.Bits(Vector256.Load(sb + 32 * (16 * h + 8 * (q & 1) + k)), 4 * (q >> 1), 0x0F);
        var high = SuperLanes.Bits(Vector256.Load(sb + 1024 + 32 * (8 * h + k)), 2 * q, 3);
        return low | SuperLanes.Times16(high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalePairs(byte* sb, int j, out Vector256<short> lo, out Vector256<short> hi)
    {
        var a = SuperLanes.SignedPlane(sb + 1536 + 16 * j);
        var b = SuperLanes.SignedPlane(sb + 1536 + 16 * j + 8);
        lo = SuperLanes.Pair(a, a);
        hi = SuperLanes.Pair(b, b);
    }

    // w = d * scale * (q - 32): the offset of 16 weights is 32 * scale, times d.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> OffsetPair(byte* sb, int p) =>
        SuperLanes.Pair(SuperLanes.SignedPlane(sb + 1536 + 16 * p) << 5, SuperLanes.SignedPlane(sb + 1536 + 16 * p + 8) << 5);

    public static Vector256<float> D(byte* sb) => InterleavedGemm.Halves(sb + 1664);
    public static Vector256<float> DOffset(byte* sb) => InterleavedGemm.Halves(sb + 1664);
    public static bool OffsetsShareScale => true;
}
