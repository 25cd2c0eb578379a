using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// y = x W^T + b for W in InterleavedBlocks (K-quants: InterleavedSuperGemm). For Q8_0, Q4_0 and Q5_0,
/// per block of 8 outputs and input row, the 8 chunks
/// of 4 weights per output are multiplied with the row's quants four at a time broadcast, so the
/// int32 lanes are the 8 outputs' dot products; then one convert and one FMA by d_w * d_x.
/// On AVX-VNNI a chunk is one vpdpbusd, seeded with the block's correction (Q8_0: -128 * sum of
/// the row's quants, undoing the stored +128; Q4_0: -8 * sum, ggml's offset). On AVX2 a Q4_0
/// chunk is one vpmaddubsw whose int16 sums stay exact over a block (8 * 2 * 15 * 127 &lt; 2^15),
/// widened once per block (Q5_0 and Q5_1: each half block in its own int16 sums, their unsigned 5-bit q
/// reaching 31); a Q8_0 chunk is vpmaddubsw of |w| with x carrying w's sign, widened
/// by vpmaddwd (two products already fill int16). Both paths give the same integers, so the
/// same outputs. Up to six input rows share each weight chunk, and every row count runs the same
/// arithmetic, so a verification pass equals its one-row passes.
/// Output rows past the last group of 8 run BlockGemm's kernels on ggml's layout.
/// </summary>
internal static unsafe class InterleavedGemm
{
    /// <summary>AVX-VNNI where the CPU has it, else AVX2.</summary>
    public static IntDotPath Best => AvxVnni.IsSupported ? IntDotPath.AvxVnni : IntDotPath.Avx2;

    /// <summary>What multiplies block-format weights on this CPU, for reports.</summary>
    public static string Describe() => InterleavedBlocks.IsSupported ? $"interleaved {Best}" : BlockGemm.Best.ToString();

    public static bool IsSupported(IntDotPath path) => path switch
    {
        IntDotPath.AvxVnni => AvxVnni.IsSupported,
        IntDotPath.Avx2 => Avx2.IsSupported,
        _ => false,
    };

    public static void Run(ActivationBlocks a, InterleavedBlocks w, byte* bytes, int oStart, int oEnd, float* bias, float* y, int outDim) =>
        Run(Best, a, w, bytes, oStart, oEnd, bias, y, outDim);

    /// <summary>Runs on `path` (AvxVnni or Avx2); throws if this CPU lacks it.</summary>
    public static void Run(IntDotPath path, ActivationBlocks a, InterleavedBlocks w, byte* bytes, int oStart, int oEnd, float* bias, float* y, int outDim)
    {
        if (path is not (IntDotPath.AvxVnni or IntDotPath.Avx2))
            throw new ArgumentOutOfRangeException(nameof(path), path, "the interleaved kernels run on AvxVnni or Avx2");
        if (!IsSupported(path)) throw new PlatformNotSupportedException($"this CPU cannot run the {path} interleaved kernels");
        if (oStart % InterleavedBlocks.Outputs != 0)
            throw new ArgumentException($"output range must start on a group of {InterleavedBlocks.Outputs}, got {oStart}", nameof(oStart));
        int grouped = w.Groups * InterleavedBlocks.Outputs, g0 = oStart / InterleavedBlocks.Outputs, g1 = Math.Min(oEnd, grouped) / InterleavedBlocks.Outputs;
        if (g1 > g0)
        {
            switch (w.Format)
            {
                case WeightFormat.Q8_0 when path == IntDotPath.AvxVnni: Rows<VnniQ8>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q4_0 when path == IntDotPath.AvxVnni: Rows<VnniQ4>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q8_0: Rows<Avx2Q8>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q4_0: Rows<Avx2Q4>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q5_0 when path == IntDotPath.AvxVnni: Rows<VnniQ5>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q5_0: Rows<Avx2Q5>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q5_1 when path == IntDotPath.AvxVnni: Rows<VnniQ51>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q5_1: Rows<Avx2Q51>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                // The K-quants run on AVX2 on either path: their products are scaled per 16 or 32 weights by vpmaddwd.
                case WeightFormat.Q4_K: InterleavedSuperGemm.Rows<Q4KChunks>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q5_K: InterleavedSuperGemm.Rows<Q5KChunks>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                case WeightFormat.Q6_K: InterleavedSuperGemm.Rows<Q6KChunks>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim); break;
                default: throw new ArgumentOutOfRangeException(nameof(w), w.Format, "not a block format");
            }
        }
        if (oEnd > grouped)
            BlockGemm.Run(BlockGemm.Best, w.Format, a, bytes, w.RowBytes, Math.Max(oStart, grouped), oEnd, bias, y, outDim);
    }

    private static void Rows<TC>(ActivationBlocks a, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TC : struct, IChunkDot =>
        BlockGemm.Rows<Groups<TC>>(a, w, rowBytes, g0, g1, bias, y, outDim);

    // One format's kernel as BlockGemm.Rows takes it, its output range in groups of 8.
    private struct Groups<TC> : IBlockKernel where TC : struct, IChunkDot
    {
        public static void Run<TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
            where TR : struct, IRowCount => Kernel<TC, TR>(a, r0, w, rowBytes, g0, g1, bias, y, outDim);
    }

    private static void Kernel<TC, TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TC : struct, IChunkDot where TR : struct, IRowCount
    {
        int blocks = a.Cols / 32, blockStride = InterleavedBlocks.Outputs * TC.BlockBytes;
        long start = ActivationBlocks.Grouped(r0, 0, 0, TR.Count, blocks);
        sbyte* x = a.GroupedQuants + 32 * start;
        float* s = a.GroupedScales + start, m = a.GroupedOffsets + start;
        int* sums = a.GroupedSums + start;
        for (int g = g0; g < g1; g++)
        {
            byte* block = w + (long)g * InterleavedBlocks.Outputs * rowBytes;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            sbyte* xp = x;
            float* sp = s;
            int* up = sums;
            float* mp = m;
            for (int b = 0; b < blocks; b++, block += blockStride, xp += 32 * TR.Count, sp += TR.Count, up += TR.Count, mp += TR.Count)
            {
                if (Sse.IsSupported) Sse.Prefetch0(block + 4 * blockStride);
                Vector256<int> a0 = TC.Start(up[0]), a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
                if (TR.Count > 1) a1 = TC.Start(up[1]);
                if (TR.Count > 2) a2 = TC.Start(up[2]);
                if (TR.Count > 3) a3 = TC.Start(up[3]);
                if (TR.Count > 4) a4 = TC.Start(up[4]);
                if (TR.Count > 5) a5 = TC.Start(up[5]);
                byte* q = block + TC.QuantsAt;
                // Unrolled: a constant k picks a Q4_0 chunk's nibble half at compile time.
                Step<TC, TR>(q, 0, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 1, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 2, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 3, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                // Chunks 4-7 to accumulators of their own where int16 sums fit only 4 chunks (SplitHalves); the
                // same Step calls either way (a second set of inlined Steps spills this kernel's accumulators).
                Vector256<int> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default, h5 = default;
                if (TC.SplitHalves)
                {
                    (h0, h1, h2, h3, h4, h5) = (a0, a1, a2, a3, a4, a5);
                    a0 = a1 = a2 = a3 = a4 = a5 = default;
                }
                Step<TC, TR>(q, 4, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 5, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 6, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                Step<TC, TR>(q, 7, xp, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5);
                if (TC.SplitHalves)
                {
                    a0 = TC.Join(h0, a0);
                    if (TR.Count > 1) a1 = TC.Join(h1, a1);
                    if (TR.Count > 2) a2 = TC.Join(h2, a2);
                    if (TR.Count > 3) a3 = TC.Join(h3, a3);
                    if (TR.Count > 4) a4 = TC.Join(h4, a4);
                    if (TR.Count > 5) a5 = TC.Join(h5, a5);
                }
                var dw = Halves(block);
                c0 = Scaled(TC.Finish(a0, up[0]), dw, sp[0], c0);
                if (TR.Count > 1) c1 = Scaled(TC.Finish(a1, up[1]), dw, sp[1], c1);
                if (TR.Count > 2) c2 = Scaled(TC.Finish(a2, up[2]), dw, sp[2], c2);
                if (TR.Count > 3) c3 = Scaled(TC.Finish(a3, up[3]), dw, sp[3], c3);
                if (TR.Count > 4) c4 = Scaled(TC.Finish(a4, up[4]), dw, sp[4], c4);
                if (TR.Count > 5) c5 = Scaled(TC.Finish(a5, up[5]), dw, sp[5], c5);
                if (TC.HasMin)
                {
                    // + each output's minimum times the row's block offset (ActivationBlocks.Offsets).
                    var mw = Halves(block + 16);
                    c0 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[0]), c0);
                    if (TR.Count > 1) c1 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[1]), c1);
                    if (TR.Count > 2) c2 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[2]), c2);
                    if (TR.Count > 3) c3 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[3]), c3);
                    if (TR.Count > 4) c4 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[4]), c4);
                    if (TR.Count > 5) c5 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(mp[5]), c5);
                }
            }
            InterleavedGemm.Store<TR>(y, outDim, r0, g * InterleavedBlocks.Outputs, bias, c0, c1, c2, c3, c4, c5);
        }
    }

    /// <summary>Outputs o..o+7 of input rows r0.. (TR.Count of them): their lanes plus the bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store<TR>(float* y, int outDim, int r0, int o, float* bias, Vector256<float> c0, Vector256<float> c1, Vector256<float> c2,
        Vector256<float> c3, Vector256<float> c4, Vector256<float> c5) where TR : struct, IRowCount
    {
        var add = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + o);
        (c0 + add).Store(y + (long)r0 * outDim + o);
        if (TR.Count > 1) (c1 + add).Store(y + (long)(r0 + 1) * outDim + o);
        if (TR.Count > 2) (c2 + add).Store(y + (long)(r0 + 2) * outDim + o);
        if (TR.Count > 3) (c3 + add).Store(y + (long)(r0 + 3) * outDim + o);
        if (TR.Count > 4) (c4 + add).Store(y + (long)(r0 + 4) * outDim + o);
        if (TR.Count > 5) (c5 + add).Store(y + (long)(r0 + 5) * outDim + o);
    }

    // Chunk k of the block times every row's quants 4k..4k+3.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TC, TR>(byte* q, int k, sbyte* xp, ref Vector256<int> a0, ref Vector256<int> a1, ref Vector256<int> a2,
        ref Vector256<int> a3, ref Vector256<int> a4, ref Vector256<int> a5)
        where TC : struct, IChunkDot where TR : struct, IRowCount
    {
        var chunk = TC.Load(q, k);
        a0 = TC.Add(a0, chunk, xp + 4 * k);
        if (TR.Count > 1) a1 = TC.Add(a1, chunk, xp + 32 + 4 * k);
        if (TR.Count > 2) a2 = TC.Add(a2, chunk, xp + 64 + 4 * k);
        if (TR.Count > 3) a3 = TC.Add(a3, chunk, xp + 96 + 4 * k);
        if (TR.Count > 4) a4 = TC.Add(a4, chunk, xp + 128 + 4 * k);
        if (TR.Count > 5) a5 = TC.Add(a5, chunk, xp + 160 + 4 * k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scaled(Vector256<int> dot, Vector256<float> dw, float dx, Vector256<float> c) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), dw * Vector256.Create(dx), c);

    /// <summary>8 f16 values as f32 lanes, converted as BlockFormats.HalfToSingle does one, without branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Halves(byte* block)
    {
        var half = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)block)).AsUInt32();
        var magnitude = (half & Vector256.Create(0x7FFFu)) << 13;
        var finite = (magnitude.AsSingle() * Vector256.Create(5.192296858534828e33f)).AsUInt32();
        var bits = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u << 13)), magnitude | Vector256.Create(0x7F800000u), finite)
            | (half & Vector256.Create(0x8000u)) << 16;
        return bits.AsSingle();
    }

    // Four quants of a row, in every int32 lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast(sbyte* x) => Vector256.Create(*(int*)x).AsSByte();

    // Chunk k of a Q4_0 block: chunks 0-3 carry weights 4k.. in their low nibbles and 16 + 4k.. (chunks 4-7) in their high ones.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Nibbles(byte* quants, int k) => k < 4
        ? Vector256.Load(quants + 32 * k) & Vector256.Create((byte)0x0F)
        : Vector256.ShiftRightLogical(Vector256.Load(quants + 32 * (k - 4)).AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);

    // Chunk k of a Q5_0 block (its interleaved fifth-bit words, then its nibble words): weights 4k..4k+3 of
    // each output, whose fifth bits are bit k of that output's four word bytes (FifthBits), moved to bit 4 by
    // one 16-bit shift (what crosses a byte boundary lands on bits other than 4, which the mask drops).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Quints(byte* quants, int k)
    {
        var words = Vector256.Load(quants).AsUInt16();
        var moved = k <= 4 ? words << (4 - k) : words >> (k - 4);
        return Nibbles(quants + 32, k) | (moved.AsByte() & Vector256.Create((byte)16));
    }

    /// <summary>A chunk as a path multiplies it: unsigned weights, and (Q8_0 on AVX2) the signed ones whose signs x takes.</summary>
    private readonly struct Chunk(Vector256<byte> unsigned, Vector256<sbyte> signed)
    {
        public Vector256<byte> Unsigned { get; } = unsigned;
        public Vector256<sbyte> Signed { get; } = signed;
    }

    /// <summary>One format on one instruction set: a row's int32 dot products of a block, chunk by chunk.</summary>
    private interface IChunkDot
    {
        static abstract int BlockBytes { get; }

        /// <summary>Where the quant words start in an interleaved block (after 8 f16 scales, and 8 minimums for Q5_1).</summary>
        static virtual int QuantsAt => 16;

        /// <summary>Whether the block's 8 f16 minimums follow its scales (Q5_1).</summary>
        static virtual bool HasMin => false;

        /// <summary>The accumulator a row starts a block with, given the sum of its quants there.</summary>
        static abstract Vector256<int> Start(int sum);

        static abstract Chunk Load(byte* quants, int k);

        static abstract Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x);

        /// <summary>The 8 outputs' dot products from the accumulator after 8 chunks: the accumulator itself unless a path widens or offsets it.</summary>
        static virtual Vector256<int> Finish(Vector256<int> acc, int sum) => acc;

        /// <summary>Whether chunks 4-7 go to accumulators of their own (Join adds them to 0-3's before Finish): int16 sums that fit 4 chunks, not 8.</summary>
        static virtual bool SplitHalves => false;

        /// <summary>Chunks 0-3's accumulator and 4-7's as one, for Finish (called where SplitHalves only). The default
        /// must stay inlinable (no throw): a call left in the branch not taken keeps this kernel's accumulators in memory.</summary>
        static virtual Vector256<int> Join(Vector256<int> low, Vector256<int> high) => low + high;
    }

    // Stored q + 128 for w = q: seed -128 * sum(x).
    private struct VnniQ8 : IChunkDot
    {
        public static int BlockBytes => Q8_0Block.BlockBytes;
        public static Vector256<int> Start(int sum) => Vector256.Create(-128 * sum);
        public static Chunk Load(byte* quants, int k) => new(Vector256.Load(quants + 32 * k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) => AvxVnni.MultiplyWideningAndAdd(acc, chunk.Unsigned, Broadcast(x));
    }

    // Stored nibbles q for w = q - 8: seed -8 * sum(x).
    private struct VnniQ4 : IChunkDot
    {
        public static int BlockBytes => Q4_0Block.BlockBytes;
        public static Vector256<int> Start(int sum) => Vector256.Create(-8 * sum);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => new(Nibbles(quants, k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) => AvxVnni.MultiplyWideningAndAdd(acc, chunk.Unsigned, Broadcast(x));
    }

    // Stored 5-bit q for w = q - 16: seed -16 * sum(x).
    private struct VnniQ5 : IChunkDot
    {
        public static int BlockBytes => Q5_0Block.BlockBytes;
        public static Vector256<int> Start(int sum) => Vector256.Create(-16 * sum);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => new(Quints(quants, k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) => AvxVnni.MultiplyWideningAndAdd(acc, chunk.Unsigned, Broadcast(x));
    }

    // Unsigned q <= 31 times x: int16 sums stay exact over half a block (4 * 2 * 31 * 127 = 31496), so the
    // halves accumulate apart (SplitHalves) and are widened at the end; -16 * sum(x) then applies ggml's offset.
    // Cheaper per row than |q - 16| times x carrying the sign: no vpsignb.
    private struct Avx2Q5 : IChunkDot
    {
        public static int BlockBytes => Q5_0Block.BlockBytes;
        public static bool SplitHalves => true;
        public static Vector256<int> Start(int sum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => new(Quints(quants, k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) =>
            (acc.AsInt16() + Avx2.MultiplyAddAdjacent(chunk.Unsigned, Broadcast(x))).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Join(Vector256<int> low, Vector256<int> high) =>
            Avx2.MultiplyAddAdjacent(low.AsInt16(), Vector256.Create((short)1)) + Avx2.MultiplyAddAdjacent(high.AsInt16(), Vector256.Create((short)1));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Finish(Vector256<int> acc, int sum) => acc + Vector256.Create(-16 * sum);
    }

    // Q5_1: unsigned q, w = d q + m; the minimum's term is added in f32 (HasMin).
    private struct VnniQ51 : IChunkDot
    {
        public static int BlockBytes => Q5_1Block.BlockBytes;
        public static int QuantsAt => 32;
        public static bool HasMin => true;
        public static Vector256<int> Start(int sum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => new(Quints(quants, k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) => AvxVnni.MultiplyWideningAndAdd(acc, chunk.Unsigned, Broadcast(x));
    }

    // Q5_1 on AVX2: sum(q x) as Q5_0's, without the offset.
    private struct Avx2Q51 : IChunkDot
    {
        public static int BlockBytes => Q5_1Block.BlockBytes;
        public static int QuantsAt => 32;
        public static bool HasMin => true;
        public static bool SplitHalves => true;
        public static Vector256<int> Start(int sum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => Avx2Q5.Load(quants, k);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) => Avx2Q5.Add(acc, chunk, x);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Join(Vector256<int> low, Vector256<int> high) => Avx2Q5.Join(low, high);
    }

    // |w| times x with w's sign: each int16 pair sum is at most 2 * 128 * 127, so every chunk is widened at once.
    private struct Avx2Q8 : IChunkDot
    {
        public static int BlockBytes => Q8_0Block.BlockBytes;
        public static Vector256<int> Start(int sum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k)
        {
            var signed = (Vector256.Load(quants + 32 * k) ^ Vector256.Create((byte)0x80)).AsSByte();
            return new(Avx2.Abs(signed), signed);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) =>
            acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(chunk.Unsigned, Avx2.Sign(Broadcast(x), chunk.Signed)), Vector256.Create((short)1));
    }

    // int16 lanes sum the block's 8 chunks (at most 8 * 2 * 15 * 127 = 30480), then one vpmaddwd widens them and -8 * sum(x) applies ggml's offset.
    private struct Avx2Q4 : IChunkDot
    {
        public static int BlockBytes => Q4_0Block.BlockBytes;
        public static Vector256<int> Start(int sum) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Chunk Load(byte* quants, int k) => new(Nibbles(quants, k), default);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> acc, Chunk chunk, sbyte* x) =>
            (acc.AsInt16() + Avx2.MultiplyAddAdjacent(chunk.Unsigned, Broadcast(x))).AsInt32();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Finish(Vector256<int> acc, int sum) =>
            Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256.Create((short)1)) + Vector256.Create(-8 * sum);
    }
}
