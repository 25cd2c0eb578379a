using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// y = x W^T + b for W in InterleavedBlocks, on AVX-VNNI: per block of 8 outputs and input row,
/// eight vpdpbusd of the unsigned weight chunks with the row's quants four at a time broadcast
/// (the int32 lanes are then the 8 outputs' dot products), seeded with the block's correction
/// (Q8_0: -128 * sum of the row's quants, undoing the stored +128; Q4_0: -8 * sum, ggml's offset),
/// then one convert and one FMA by d_w * d_x. Up to six input rows share each weight chunk.
/// Every row count runs the same arithmetic, so a verification pass equals its one-row passes.
/// Output rows past the last group of 8 run BlockGemm's kernels on ggml's layout.
/// </summary>
internal static unsafe class InterleavedGemm
{
    public static void Run(ActivationBlocks a, InterleavedBlocks w, byte* bytes, int oStart, int oEnd, float* bias, float* y, int outDim)
    {
        if (oStart % InterleavedBlocks.Outputs != 0)
            throw new ArgumentException($"output range must start on a group of {InterleavedBlocks.Outputs}, got {oStart}", nameof(oStart));
        int grouped = w.Groups * InterleavedBlocks.Outputs, g0 = oStart / InterleavedBlocks.Outputs, g1 = Math.Min(oEnd, grouped) / InterleavedBlocks.Outputs;
        if (g1 > g0)
        {
            if (w.Format == WeightFormat.Q8_0) Rows<Q8Chunks>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim);
            else Rows<Q4Chunks>(a, bytes, w.RowBytes, g0, g1, bias, y, outDim);
        }
        if (oEnd > grouped)
            BlockGemm.Run(BlockGemm.Best, w.Format, a, bytes, w.RowBytes, Math.Max(oStart, grouped), oEnd, bias, y, outDim);
    }

    private static void Rows<TC>(ActivationBlocks a, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TC : struct, IChunks
    {
        for (int r = 0, count; r < a.Rows; r += count)
        {
            count = BlockGemm.GroupRows(a.Rows - r);
            switch (count)
            {
                case 1: Kernel<TC, One>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
                case 2: Kernel<TC, Two>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
                case 3: Kernel<TC, Three>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
                case 4: Kernel<TC, Four>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
                case 5: Kernel<TC, Five>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
                default: Kernel<TC, Six>(a, r, w, rowBytes, g0, g1, bias, y, outDim); break;
            }
        }
    }

    private static void Kernel<TC, TR>(ActivationBlocks a, int r0, byte* w, int rowBytes, int g0, int g1, float* bias, float* y, int outDim)
        where TC : struct, IChunks where TR : struct, IRowCount
    {
        int blocks = a.Cols / 32, blockStride = InterleavedBlocks.Outputs * TC.BlockBytes;
        long start = ActivationBlocks.Grouped(r0, 0, 0, TR.Count, blocks);
        sbyte* x = a.GroupedQuants + 32 * start;
        float* s = a.GroupedScales + start;
        int* sums = a.GroupedSums + start;
        for (int g = g0; g < g1; g++)
        {
            byte* block = w + (long)g * InterleavedBlocks.Outputs * rowBytes;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            sbyte* xp = x;
            float* sp = s;
            int* up = sums;
            for (int b = 0; b < blocks; b++, block += blockStride, xp += 32 * TR.Count, sp += TR.Count, up += TR.Count)
            {
                if (Sse.IsSupported) Sse.Prefetch0(block + 4 * blockStride);
                Vector256<int> a0 = Seed<TC>(up, 0), a1 = Seed<TC>(up, 1), a2 = Seed<TC>(up, 2), a3 = Seed<TC>(up, 3), a4 = Seed<TC>(up, 4), a5 = Seed<TC>(up, 5);
                byte* q = block + 16;
                for (int k = 0; k < 8; k++)
                {
                    var chunk = TC.Chunk(q, k);
                    a0 = Dot(a0, chunk, xp + 4 * k);
                    if (TR.Count > 1) a1 = Dot(a1, chunk, xp + 32 + 4 * k);
                    if (TR.Count > 2) a2 = Dot(a2, chunk, xp + 64 + 4 * k);
                    if (TR.Count > 3) a3 = Dot(a3, chunk, xp + 96 + 4 * k);
                    if (TR.Count > 4) a4 = Dot(a4, chunk, xp + 128 + 4 * k);
                    if (TR.Count > 5) a5 = Dot(a5, chunk, xp + 160 + 4 * k);
                }
                var dw = Scales(block);
                c0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a0), dw * Vector256.Create(sp[0]), c0);
                if (TR.Count > 1) c1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a1), dw * Vector256.Create(sp[1]), c1);
                if (TR.Count > 2) c2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a2), dw * Vector256.Create(sp[2]), c2);
                if (TR.Count > 3) c3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a3), dw * Vector256.Create(sp[3]), c3);
                if (TR.Count > 4) c4 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a4), dw * Vector256.Create(sp[4]), c4);
                if (TR.Count > 5) c5 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(a5), dw * Vector256.Create(sp[5]), c5);
            }
            int o = g * InterleavedBlocks.Outputs;
            var add = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + o);
            (c0 + add).Store(y + (long)r0 * outDim + o);
            if (TR.Count > 1) (c1 + add).Store(y + (long)(r0 + 1) * outDim + o);
            if (TR.Count > 2) (c2 + add).Store(y + (long)(r0 + 2) * outDim + o);
            if (TR.Count > 3) (c3 + add).Store(y + (long)(r0 + 3) * outDim + o);
            if (TR.Count > 4) (c4 + add).Store(y + (long)(r0 + 4) * outDim + o);
            if (TR.Count > 5) (c5 + add).Store(y + (long)(r0 + 5) * outDim + o);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Seed<TC>(int* sums, int r) where TC : struct, IChunks => Vector256.Create(TC.Offset * sums[r]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> chunk, sbyte* x) =>
        AvxVnni.MultiplyWideningAndAdd(acc, chunk, Vector256.Create(*(int*)x).AsSByte());

    // The group's 8 f16 scales as f32 lanes, converted as BlockFormats.HalfToSingle does one, without branches.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(byte* block)
    {
        var half = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)block)).AsUInt32();
        var magnitude = (half & Vector256.Create(0x7FFFu)) << 13;
        var finite = (magnitude.AsSingle() * Vector256.Create(5.192296858534828e33f)).AsUInt32();
        var bits = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u << 13)), magnitude | Vector256.Create(0x7F800000u), finite)
            | (half & Vector256.Create(0x8000u)) << 16;
        return bits.AsSingle();
    }

    /// <summary>A format's interleaved quants as eight 32-byte chunks of unsigned weights, chunk k for the block's weights 4k..4k+3.</summary>
    private interface IChunks
    {
        static abstract int BlockBytes { get; }

        /// <summary>With u the stored unsigned weights: sum(w x) = sum(u x) + Offset * sum(x).</summary>
        static abstract int Offset { get; }

        static abstract Vector256<byte> Chunk(byte* quants, int k);
    }

    // Stored q + 128 for w = q: seed -128 * sum(x).
    private struct Q8Chunks : IChunks
    {
        public static int BlockBytes => Q8_0Block.BlockBytes;
        public static int Offset => -128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Chunk(byte* quants, int k) => Vector256.Load(quants + 32 * k);
    }

    // Stored nibbles q for w = q - 8: seed -8 * sum(x). Chunks 0-3 carry weights 4k.. in their low
    // nibbles and 16 + 4k.. (chunks 4-7) in their high ones.
    private struct Q4Chunks : IChunks
    {
        public static int BlockBytes => Q4_0Block.BlockBytes;
        public static int Offset => -8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Chunk(byte* quants, int k) => k < 4
            ? Vector256.Load(quants + 32 * k) & Vector256.Create((byte)0x0F)
            : Vector256.ShiftRightLogical(Vector256.Load(quants + 32 * (k - 4)).AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);
    }
}
