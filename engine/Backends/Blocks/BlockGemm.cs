using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// y (rows, outDim) = x (rows, inDim) * W (outDim, inDim)^T + b for output columns
/// [oStart, oEnd), W in a block format and x already rounded to 8 bits (ActivationBlocks).
/// Each weight block is unpacked once and multiplied with up to 6 input rows (verification of
/// gamma + 1 &lt;= 6 rows costs one pass over the weights), by TD's integer dot products.
/// TF, TD and TR are types so the JIT compiles one kernel per format, instruction set and row count.
/// </summary>
internal static unsafe class BlockGemm
{
    /// <summary>Runs on `path`; throws if this CPU lacks it. Rows past 6 go six at a time, then the last 1-6 together.</summary>
    public static void Run(IntDotPath path, WeightFormat format, ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd,
        float* bias, float* y, int outDim)
    {
        switch (path)
        {
            case IntDotPath.Scalar: BlockGemmScalar.Run(format, a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case IntDotPath.Avx2: Run<Avx2Dot>(format, a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case IntDotPath.AvxVnni: Run<VnniDot>(format, a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case IntDotPath.Avx512: RunWide(format, a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            default: throw new ArgumentOutOfRangeException(nameof(path), path, "unknown integer dot path");
        }
    }

    /// <summary>The fastest path this CPU runs.</summary>
    public static IntDotPath Best => VnniDot.IsSupported ? IntDotPath.AvxVnni
        : Block32Wide<Q8_0Block>.IsSupported ? IntDotPath.Avx512
        : Avx2Dot.IsSupported ? IntDotPath.Avx2 : IntDotPath.Scalar;

    public static bool IsSupported(IntDotPath path) => path switch
    {
        IntDotPath.Scalar => true,
        IntDotPath.Avx2 => Avx2Dot.IsSupported,
        IntDotPath.AvxVnni => VnniDot.IsSupported,
        IntDotPath.Avx512 => Block32Wide<Q8_0Block>.IsSupported,
        _ => false,
    };

    private static void Run<TD>(WeightFormat format, ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TD : struct, IIntDot
    {
        if (!TD.IsSupported) throw new PlatformNotSupportedException($"this CPU cannot run the {typeof(TD).Name} block kernels");
        switch (format)
        {
            case WeightFormat.Q8_0: Rows<Block32<Q8_0Block, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_0: Rows<Block32<Q4_0Block, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_0: Rows<Block32<Q5_0Block, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_1: Rows<Block32<Q5_1Block, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_K: Rows<SuperBlock<Q4KBlock, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_K: Rows<SuperBlock<Q5KBlock, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q6_K: Rows<SuperBlock<Q6KBlock, TD>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format");
        }
    }

    private static void RunWide(WeightFormat format, ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
    {
        if (!Block32Wide<Q8_0Block>.IsSupported) throw new PlatformNotSupportedException("this CPU cannot run the AVX-512BW block kernels");
        switch (format)
        {
            case WeightFormat.Q8_0: Rows<Block32Wide<Q8_0Block>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_0: Rows<Block32Wide<Q4_0Block>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_0: Rows<Block32Wide<Q5_0Block>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_1: Rows<Block32Wide<Q5_1Block>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_K: Rows<SuperBlockWide<Q4KBlock>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_K: Rows<SuperBlockWide<Q5KBlock>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q6_K: Rows<SuperBlockWide<Q6KBlock>>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format");
        }
    }

    /// <summary>Every input row through TK, six at a time, then the last 1-6 together (the groups ActivationBlocks.Grouped lays out).</summary>
    internal static void Rows<TK>(ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TK : struct, IBlockKernel
    {
        int r = 0, rows = a.Rows;
        for (; rows - r > PassRows; r += GroupRows(rows - r)) TK.Run<Six>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim);
        switch (GroupRows(rows - r))
        {
            case 1: TK.Run<One>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case 2: TK.Run<Two>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case 3: TK.Run<Three>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case 4: TK.Run<Four>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case 5: TK.Run<Five>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case 6: TK.Run<Six>(a, r, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
        }
    }

    /// <summary>The most input rows one kernel call takes (a verification pass of gamma + 1 &lt;= 6 rows is one call); more make a prompt.</summary>
    public const int PassRows = 6;

    /// <summary>How many of the `remaining` input rows one kernel call takes.</summary>
    public static int GroupRows(int remaining) => Math.Min(remaining, PassRows);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    // Output (r, o) = lane sum + bias.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(float* y, int outDim, int r, int o, float* bias, Vector256<float> c) =>
        y[(long)r * outDim + o] = Vector256.Sum(c) + (bias is null ? 0f : bias[o]);

    // Requests row o + 2's bytes at the pace row o is read: rows are contiguous, but a chunk of
    // rows is too short for the hardware prefetcher to learn before it ends.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchAhead(byte* at, int rowBytes)
    {
        if (Sse.IsSupported) Sse.Prefetch0(at + 2L * rowBytes);
    }
}

/// <summary>Input rows [r0, r0 + TR.Count) against weight rows [oStart, oEnd), one format on one instruction set.</summary>
internal interface IBlockKernel
{
    static abstract unsafe void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TR : struct, IRowCount;
}

/// <summary>
/// Q8_0 / Q4_0 against per-32 activation scales: per block, an int32 dot of the signed weights
/// with each row's quants, scaled by d_w * d_x into f32 lanes.
/// </summary>
internal unsafe struct Block32<TF, TD> : IBlockKernel where TF : struct, IBlock32 where TD : struct, IIntDot
{
    public static void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TR : struct, IRowCount
    {
        int n = a.Cols, blocks = n / 32;
        sbyte* q0 = a.Quants + (long)r0 * n, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n, q4 = q3 + n, q5 = q4 + n;
        float* d0 = a.Scales + (long)r0 * blocks, d1 = d0 + blocks, d2 = d1 + blocks, d3 = d2 + blocks, d4 = d3 + blocks, d5 = d4 + blocks;
        for (int o = oStart; o < oEnd; o++)
        {
            byte* row = w + (long)o * rowBytes;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            for (int b = 0; b < blocks; b++)
            {
                byte* block = row + b * TF.BlockBytes;
                if ((b & 1) == 0) BlockGemm.PrefetchAhead(block, rowBytes);
                var wq = TF.Weights(block);
                float dw = TF.Scale(block);
                int at = 32 * b;
                c0 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q0 + at))), Vector256.Create(dw * d0[b]), c0);
                if (TR.Count > 1) c1 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q1 + at))), Vector256.Create(dw * d1[b]), c1);
                if (TR.Count > 2) c2 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q2 + at))), Vector256.Create(dw * d2[b]), c2);
                if (TR.Count > 3) c3 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q3 + at))), Vector256.Create(dw * d3[b]), c3);
                if (TR.Count > 4) c4 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q4 + at))), Vector256.Create(dw * d4[b]), c4);
                if (TR.Count > 5) c5 = BlockGemm.Fma(Vector256.ConvertToSingle(TD.DotSigned(wq, Vector256.Load(q5 + at))), Vector256.Create(dw * d5[b]), c5);
                if (TF.HasMin)
                {
                    // + m_w * s_x in lane 0, as ggml adds its Q8_1 products' minimum terms.
                    float m = TF.Min(block);
                    float* s = a.Offsets + (long)r0 * blocks + b;
                    c0 += Vector256.CreateScalar(m * s[0]);
                    if (TR.Count > 1) c1 += Vector256.CreateScalar(m * s[blocks]);
                    if (TR.Count > 2) c2 += Vector256.CreateScalar(m * s[2 * blocks]);
                    if (TR.Count > 3) c3 += Vector256.CreateScalar(m * s[3 * blocks]);
                    if (TR.Count > 4) c4 += Vector256.CreateScalar(m * s[4 * blocks]);
                    if (TR.Count > 5) c5 += Vector256.CreateScalar(m * s[5 * blocks]);
                }
            }
            BlockGemm.Store(y, outDim, r0, o, bias, c0);
            if (TR.Count > 1) BlockGemm.Store(y, outDim, r0 + 1, o, bias, c1);
            if (TR.Count > 2) BlockGemm.Store(y, outDim, r0 + 2, o, bias, c2);
            if (TR.Count > 3) BlockGemm.Store(y, outDim, r0 + 3, o, bias, c3);
            if (TR.Count > 4) BlockGemm.Store(y, outDim, r0 + 4, o, bias, c4);
            if (TR.Count > 5) BlockGemm.Store(y, outDim, r0 + 5, o, bias, c5);
        }
    }
}

/// <summary>
/// Q4_K / Q5_K / Q6_K against per-256 activation scales: a super-block's eight sub-block dots,
/// each times its integer scale, add up in int32 lanes; its offsets (mins, or Q6_K's 32s) meet
/// the activations' per-16 sums in one vpmaddwd; two FMAs per row then scale both into f32.
/// </summary>
internal unsafe struct SuperBlock<TF, TD> : IBlockKernel where TF : struct, ISuperBlock where TD : struct, IIntDot
{
    public static void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TR : struct, IRowCount
    {
        int n = a.Cols, supers = n / 256;
        sbyte* q0 = a.Quants + (long)r0 * n, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n, q4 = q3 + n, q5 = q4 + n;
        float* d0 = a.Scales + (long)r0 * supers, d1 = d0 + supers, d2 = d1 + supers, d3 = d2 + supers, d4 = d3 + supers, d5 = d4 + supers;
        short* s0 = a.Sums + (long)r0 * (n / 16), s1 = s0 + n / 16, s2 = s1 + n / 16, s3 = s2 + n / 16, s4 = s3 + n / 16, s5 = s4 + n / 16;
        short* scales = stackalloc short[16], offsets = stackalloc short[16];
        for (int o = oStart; o < oEnd; o++)
        {
            byte* row = w + (long)o * rowBytes;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            for (int s = 0; s < supers; s++)
            {
                byte* block = row + s * TF.BlockBytes;
                for (int line = 0; line < TF.BlockBytes; line += 64) BlockGemm.PrefetchAhead(block + line, rowBytes);
                TF.Scales(block, scales, offsets, out float dScale, out float dOffset);
                Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default;
                for (int j = 0; j < 8; j++)
                {
                    var u = TF.Quants(block, j);
                    var scale = Vector256.Create(Vector128.Create(scales[2 * j]), Vector128.Create(scales[2 * j + 1]));
                    int at = 256 * s + 32 * j;
                    i0 = TD.DotScaled(i0, u, Vector256.Load(q0 + at), scale);
                    if (TR.Count > 1) i1 = TD.DotScaled(i1, u, Vector256.Load(q1 + at), scale);
                    if (TR.Count > 2) i2 = TD.DotScaled(i2, u, Vector256.Load(q2 + at), scale);
                    if (TR.Count > 3) i3 = TD.DotScaled(i3, u, Vector256.Load(q3 + at), scale);
                    if (TR.Count > 4) i4 = TD.DotScaled(i4, u, Vector256.Load(q4 + at), scale);
                    if (TR.Count > 5) i5 = TD.DotScaled(i5, u, Vector256.Load(q5 + at), scale);
                }
                var off = Vector256.Load(offsets);
                c0 = Finish(c0, i0, off, s0 + 16 * s, dScale * d0[s], dOffset * d0[s]);
                if (TR.Count > 1) c1 = Finish(c1, i1, off, s1 + 16 * s, dScale * d1[s], dOffset * d1[s]);
                if (TR.Count > 2) c2 = Finish(c2, i2, off, s2 + 16 * s, dScale * d2[s], dOffset * d2[s]);
                if (TR.Count > 3) c3 = Finish(c3, i3, off, s3 + 16 * s, dScale * d3[s], dOffset * d3[s]);
                if (TR.Count > 4) c4 = Finish(c4, i4, off, s4 + 16 * s, dScale * d4[s], dOffset * d4[s]);
                if (TR.Count > 5) c5 = Finish(c5, i5, off, s5 + 16 * s, dScale * d5[s], dOffset * d5[s]);
            }
            BlockGemm.Store(y, outDim, r0, o, bias, c0);
            if (TR.Count > 1) BlockGemm.Store(y, outDim, r0 + 1, o, bias, c1);
            if (TR.Count > 2) BlockGemm.Store(y, outDim, r0 + 2, o, bias, c2);
            if (TR.Count > 3) BlockGemm.Store(y, outDim, r0 + 3, o, bias, c3);
            if (TR.Count > 4) BlockGemm.Store(y, outDim, r0 + 4, o, bias, c4);
            if (TR.Count > 5) BlockGemm.Store(y, outDim, r0 + 5, o, bias, c5);
        }
    }

    // c + dScale d_x * dots - dOffset d_x * (offsets . per-16 sums of the row's quants).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<float> c, Vector256<int> dots, Vector256<short> offsets, short* sums, float scale, float offsetScale)
    {
        c = BlockGemm.Fma(Vector256.ConvertToSingle(dots), Vector256.Create(scale), c);
        var offsetDots = Avx2.MultiplyAddAdjacent(Vector256.Load(sums), offsets);
        return BlockGemm.Fma(Vector256.ConvertToSingle(offsetDots), Vector256.Create(-offsetScale), c);
    }
}
