using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Training;

internal sealed unsafe partial class Gemm
{
    /// <summary>
    /// Packs indices [first, first + count) of an operand (rows of A, or of B), k-range
    /// [k0, k0 + kc), into panels of `width` indices: panel p holds, for each k, its width values
    /// side by side (kc x width, k-major), the last panel padded with zeros. Stored along k
    /// (src[index * ld + k]) this is a transpose, done in 8 x 8 register blocks; stored
    /// transposed (src[k * ld + index]) it is a copy of `width` contiguous values per k.
    /// </summary>
    private static void Pack(float* src, int ld, bool transposed, int first, int count, int k0, int kc, int width, float* dst)
    {
        if (transposed)
        {
            PackRows(src + (long)k0 * ld + first, ld, count, kc, width, dst);
            return;
        }
        for (int p = 0; p < count; p += width, dst += kc * width)
        {
            int w = Math.Min(width, count - p);
            float* s = src + (long)(first + p) * ld + k0;
            int r = 0;
            if (Avx.IsSupported)
            {
                for (; r + 8 <= w; r += 8)
                {
                    int kk = 0;
                    for (; kk + 8 <= kc; kk += 8) Transpose8x8(s + (long)r * ld + kk, ld, dst + kk * width + r, width);
                    for (; kk < kc; kk++)
                        for (int i = r; i < r + 8; i++) dst[kk * width + i] = s[(long)i * ld + kk];
                }
                // The last four rows of a 12-row panel.
                for (; r + 4 <= w; r += 4)
                {
                    int kk = 0;
                    for (; kk + 8 <= kc; kk += 8) Transpose4x8(s + (long)r * ld + kk, ld, dst + kk * width + r, width);
                    for (; kk < kc; kk++)
                        for (int i = r; i < r + 4; i++) dst[kk * width + i] = s[(long)i * ld + kk];
                }
            }
            for (; r < w; r++)
                for (int kk = 0; kk < kc; kk++) dst[kk * width + r] = s[(long)r * ld + kk];
            if (w < width)
                for (int kk = 0; kk < kc; kk++) new Span<float>(dst + kk * width + w, width - w).Clear();
        }
    }

    // kc rows of count contiguous values, rows ld apart, into panels of width, row by row: each
    // row is read start to end, which the hardware prefetcher follows; rows ld apart (2 KB for
    // 512 columns) read a panel at a time would each be a cache miss it does not foresee.
    private static void PackRows(float* src, int ld, int count, int kc, int width, float* dst)
    {
        int panelSize = kc * width, full = count / width, tail = count - full * width;
        for (int kk = 0; kk < kc; kk++)
        {
            float* s = src + (long)kk * ld, d = dst + kk * width;
            for (int q = 0; q < full; q++) CopyRow(s + q * width, width, d + q * panelSize);
            if (tail > 0)
            {
                float* last = d + full * panelSize;
                new Span<float>(s + full * width, tail).CopyTo(new Span<float>(last, tail));
                new Span<float>(last + tail, width - tail).Clear();
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* src, int width, float* dst)
    {
        int i = 0;
        for (; i + 8 <= width; i += 8) Vector256.Load(src + i).Store(dst + i);
        for (; i < width; i += 4) Vector128.Load(src + i).Store(dst + i);
    }

    // dst[c * dstStride + r] = src[r * srcStride + c] for a 4 x 8 block: the 8 x 8 transpose's first
    // two steps, each 256-bit result holding two 4-value columns.
    private static void Transpose4x8(float* src, int srcStride, float* dst, int dstStride)
    {
        nint s = srcStride, d = dstStride;
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + s);
        var r2 = Avx.LoadVector256(src + 2 * s);
        var r3 = Avx.LoadVector256(src + 3 * s);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        u0.GetLower().Store(dst);
        u1.GetLower().Store(dst + d);
        u2.GetLower().Store(dst + 2 * d);
        u3.GetLower().Store(dst + 3 * d);
        u0.GetUpper().Store(dst + 4 * d);
        u1.GetUpper().Store(dst + 5 * d);
        u2.GetUpper().Store(dst + 6 * d);
        u3.GetUpper().Store(dst + 7 * d);
    }

    // dst[c * dstStride + r] = src[r * srcStride + c] for an 8 x 8 block: the classic AVX transpose
    // (interleave pairs of rows, then quads, then swap 128-bit halves).
    private static void Transpose8x8(float* src, int srcStride, float* dst, int dstStride)
    {
        nint s = srcStride, d = dstStride;
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + s);
        var r2 = Avx.LoadVector256(src + 2 * s);
        var r3 = Avx.LoadVector256(src + 3 * s);
        var r4 = Avx.LoadVector256(src + 4 * s);
        var r5 = Avx.LoadVector256(src + 5 * s);
        var r6 = Avx.LoadVector256(src + 6 * s);
        var r7 = Avx.LoadVector256(src + 7 * s);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + d, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * d, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * d, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * d, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * d, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * d, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * d, Avx.Permute2x128(u3, u7, 0x31));
    }
}
