using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// Q8_0 / Q4_0 for prompts (more than 6 input rows) on AVX-VNNI. A tile of 8 output rows is
/// unpacked once: signed weights, each block's correction seed and its f32 scale lanes. The tile
/// then serves every group of up to six input rows, where Block32Wide unpacks every block again
/// for each group. The activations come offset to unsigned (x + 128, ActivationBlocks.Unsigned),
/// so vpdpbusd takes them as they are and needs no sign flip per row:
/// w . x = (x + 128) . w - 128 * sum(w), and -128 * sum(w) seeds the accumulator.
/// The int32 lanes are the same integers as Block32Wide's, and the f32 steps are the same
/// operations in the same order, so a row's output is the same whichever kernel ran it.
/// </summary>
internal unsafe struct Block32Vnni<TF> where TF : struct, IBlock32
{
    /// <summary>Needs AVX-512F beside AVX-VNNI: the f32 half of each step runs on two blocks at once, 512 bits wide.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512F.IsSupported;

    // A prompt's weight tile: this many output rows are unpacked once (weights, seeds, f32 scales)
    // and then serve every group of input rows, instead of being unpacked again for each group.
    private const int TileOutputs = 8;

    [ThreadStatic] private static byte[]? t_tile;

    /// <summary>Bytes of one unpacked output row: per pair of blocks both weights, both seeds and 16 scale lanes; an odd last block's weights, seed and scale.</summary>
    private static int UnpackedBytes(int blocks) => blocks / 2 * 192 + blocks % 2 * 96;

    /// <summary>Any number of input rows, in the groups of BlockGemm.GroupRows, with Block32Wide's arithmetic per row.</summary>
    public static void RunTiled(ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
    {
        int blocks = a.Cols / 32, stride = UnpackedBytes(blocks);
        var buffer = t_tile;
        if (buffer is null || buffer.Length < TileOutputs * stride + 64)
            t_tile = buffer = GC.AllocateUninitializedArray<byte>(TileOutputs * stride + 64, pinned: true);
        // 64-byte aligned, so no unpacked vector straddles two cache lines.
        byte* tile = (byte*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)) + 63) & ~(nint)63);
        for (int t = oStart; t < oEnd; t += TileOutputs)
        {
            int tEnd = Math.Min(oEnd, t + TileOutputs);
            for (int o = t; o < tEnd; o++) Unpack(w + (long)o * rowBytes, blocks, tile + (o - t) * stride);
            for (int r = 0, count; r < a.Rows; r += count)
            {
                count = BlockGemm.GroupRows(a.Rows - r);
                switch (count)
                {
                    case 1: Unpacked<One>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                    case 2: Unpacked<Two>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                    case 3: Unpacked<Three>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                    case 4: Unpacked<Four>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                    case 5: Unpacked<Five>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                    default: Unpacked<Six>(a, r, tile, stride, t, tEnd, bias, y, outDim); break;
                }
            }
        }
    }

    private static void Unpack(byte* row, int blocks, byte* to)
    {
        int pairs = blocks / 2;
        for (int p = 0; p < pairs; p++, to += 192)
        {
            byte* block = row + 2 * p * TF.BlockBytes;
            var (wa, wb) = (TF.Weights(block), TF.Weights(block + TF.BlockBytes));
            wa.Store((sbyte*)to);
            wb.Store((sbyte*)to + 32);
            Seed(wa).Store((int*)(to + 64));
            Seed(wb).Store((int*)(to + 96));
            PairScales(block, block + TF.BlockBytes).Store((float*)(to + 128));
        }
        if (blocks % 2 != 0)
        {
            byte* block = row + (blocks - 1) * TF.BlockBytes;
            var wq = TF.Weights(block);
            wq.Store((sbyte*)to);
            Seed(wq).Store((int*)(to + 32));
            *(float*)(to + 64) = TF.Scale(block);
        }
    }

    private static void Unpacked<TR>(ActivationBlocks a, int r0, byte* tile, int stride, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TR : struct, IRowCount
    {
        int n = a.Cols, blocks = n / 32, pairs = blocks / 2;
        byte* x = a.Unsigned + ActivationBlocks.Grouped(r0, 0, 0, TR.Count, blocks) * 32;
        float* s = a.GroupedScales + ActivationBlocks.Grouped(r0, 0, 0, TR.Count, blocks) * 8;
        for (int o = oStart; o < oEnd; o++)
        {
            byte* u = tile + (o - oStart) * stride;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            byte* xp = x;
            float* sp = s;
            for (int p = 0; p < pairs; p++, xp += 64 * TR.Count, sp += 16 * TR.Count, u += 192)
            {
                var (wa, wb) = (Vector256.Load((sbyte*)u), Vector256.Load((sbyte*)u + 32));
                var (seedA, seedB) = (Vector256.Load((int*)(u + 64)), Vector256.Load((int*)(u + 96)));
                var dw = Vector512.Load((float*)(u + 128));
                c0 = Step(c0, seedA, seedB, wa, wb, xp, dw, sp);
                if (TR.Count > 1) c1 = Step(c1, seedA, seedB, wa, wb, xp + 64, dw, sp + 16);
                if (TR.Count > 2) c2 = Step(c2, seedA, seedB, wa, wb, xp + 128, dw, sp + 32);
                if (TR.Count > 3) c3 = Step(c3, seedA, seedB, wa, wb, xp + 192, dw, sp + 48);
                if (TR.Count > 4) c4 = Step(c4, seedA, seedB, wa, wb, xp + 256, dw, sp + 64);
                if (TR.Count > 5) c5 = Step(c5, seedA, seedB, wa, wb, xp + 320, dw, sp + 80);
            }
            float t0 = Vector512.Sum(c0), t1 = Vector512.Sum(c1), t2 = Vector512.Sum(c2), t3 = Vector512.Sum(c3), t4 = Vector512.Sum(c4), t5 = Vector512.Sum(c5);
            if (blocks % 2 != 0)
            {
                var wq = Vector256.Load((sbyte*)u);
                var seed = Vector256.Load((int*)(u + 32));
                float dw = *(float*)(u + 64);
                t0 += Last(seed, wq, xp, dw, sp);
                if (TR.Count > 1) t1 += Last(seed, wq, xp + 32, dw, sp + 8);
                if (TR.Count > 2) t2 += Last(seed, wq, xp + 64, dw, sp + 16);
                if (TR.Count > 3) t3 += Last(seed, wq, xp + 96, dw, sp + 24);
                if (TR.Count > 4) t4 += Last(seed, wq, xp + 128, dw, sp + 32);
                if (TR.Count > 5) t5 += Last(seed, wq, xp + 160, dw, sp + 40);
            }
            float add = bias is null ? 0f : bias[o];
            y[(long)r0 * outDim + o] = t0 + add;
            if (TR.Count > 1) y[(long)(r0 + 1) * outDim + o] = t1 + add;
            if (TR.Count > 2) y[(long)(r0 + 2) * outDim + o] = t2 + add;
            if (TR.Count > 3) y[(long)(r0 + 3) * outDim + o] = t3 + add;
            if (TR.Count > 4) y[(long)(r0 + 4) * outDim + o] = t4 + add;
            if (TR.Count > 5) y[(long)(r0 + 5) * outDim + o] = t5 + add;
        }
    }

    // -128 * (sum of each lane's four weights): w . x = (x + 128) . w + this.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Seed(Vector256<sbyte> w) =>
        Vector256<int>.Zero - AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Create((byte)128), w);

    // Two blocks' f16 scales (at a and b) as eight lanes each, converted side by side without branches, as BlockFormats.HalfToSingle does one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairScales(byte* a, byte* b)
    {
        var half = Vector128.Create(*(ushort*)a, *(ushort*)b, 0u, 0u);
        var magnitude = (half & Vector128.Create(0x7FFFu)) << 13;
        var finite = (magnitude.AsSingle() * Vector128.Create(5.192296858534828e33f)).AsUInt32();
        var bits = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(magnitude, Vector128.Create(0x7C00u << 13)), magnitude | Vector128.Create(0x7F800000u), finite)
            | (half & Vector128.Create(0x8000u)) << 16;
        return Avx512F.PermuteVar16x32(bits.AsSingle().ToVector256Unsafe().ToVector512Unsafe(), Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    }

    // Two blocks' integer dots side by side, then one 512-bit convert, scale product and FMA for both.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step(Vector512<float> c, Vector256<int> seedA, Vector256<int> seedB, Vector256<sbyte> wa, Vector256<sbyte> wb,
        byte* x, Vector512<float> dw, float* laneScales)
    {
        var dots = Avx512F.InsertVector256(AvxVnni.MultiplyWideningAndAdd(seedA, Vector256.Load(x), wa).ToVector512Unsafe(),
            AvxVnni.MultiplyWideningAndAdd(seedB, Vector256.Load(x + 32), wb), 1);
        return Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dots), dw * Vector512.Load(laneScales), c);
    }

    // An odd last block as Block32Wide sums it: the lanes' integer total times d_w, then times d_x.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Last(Vector256<int> seed, Vector256<sbyte> w, byte* x, float dw, float* laneScales) =>
        Vector256.Sum(AvxVnni.MultiplyWideningAndAdd(seed, Vector256.Load(x), w)) * dw * *laneScales;
}
