using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// Q4_K / Q5_K / Q6_K on AVX-512BW: SuperBlock's arithmetic with two 32-weight sub-blocks per
/// 512-bit vpmaddubsw / vpmaddwd (each sub-block's integer scale in its half), so a super-block
/// takes four integer steps per input row instead of eight.
/// </summary>
internal unsafe struct SuperBlockWide<TF> : IBlockKernel where TF : struct, ISuperBlock
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
                Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default, i4 = default, i5 = default;
                for (int p = 0; p < 4; p++)
                {
                    var u = Vector512.Create(TF.Quants(block, 2 * p), TF.Quants(block, 2 * p + 1));
                    var scale = Vector512.Create(
                        Vector256.Create(Vector128.Create(scales[4 * p]), Vector128.Create(scales[4 * p + 1])),
                        Vector256.Create(Vector128.Create(scales[4 * p + 2]), Vector128.Create(scales[4 * p + 3])));
                    int at = 256 * s + 64 * p;
                    i0 = Dot(i0, u, q0 + at, scale);
                    if (TR.Count > 1) i1 = Dot(i1, u, q1 + at, scale);
                    if (TR.Count > 2) i2 = Dot(i2, u, q2 + at, scale);
                    if (TR.Count > 3) i3 = Dot(i3, u, q3 + at, scale);
                    if (TR.Count > 4) i4 = Dot(i4, u, q4 + at, scale);
                    if (TR.Count > 5) i5 = Dot(i5, u, q5 + at, scale);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot(Vector512<int> acc, Vector512<byte> u, sbyte* x, Vector512<short> scale) =>
        acc + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.Load(x)), scale);

    // The two halves' lanes folded into eight, then SuperBlock's scaling.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<float> c, Vector512<int> dots, Vector256<short> offsets, short* sums, float scale, float offsetScale)
    {
        var folded = dots.GetLower() + dots.GetUpper();
        c = BlockGemm.Fma(Vector256.ConvertToSingle(folded), Vector256.Create(scale), c);
        var offsetDots = Avx2.MultiplyAddAdjacent(Vector256.Load(sums), offsets);
        return BlockGemm.Fma(Vector256.ConvertToSingle(offsetDots), Vector256.Create(-offsetScale), c);
    }
}
