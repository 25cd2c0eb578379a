using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DistillSpec.Backends;

namespace DistillSpec.Training;

/// <summary>
/// The one matrix product training needs: C (m, n) = A (m, k) · B (n, k)^T, or C += that. Both
/// operands run along k, which is how x · W^T looks with HF's (out, in) weights; the backward
/// products take this shape after a transpose (an O(n^2) pass next to the O(n^3) product).
/// Every element of C is summed in the same order whatever the thread count or tile it falls in,
/// so results are bit-identical across -t settings (resume tests rely on it).
/// </summary>
internal sealed class Gemm(WorkerPool pool) : RangeJob
{
    // A 4 x 4 register tile over a k-block sized for L1 (4 rows of A + 4 of B = 8 KB), sweeping
    // column blocks of B sized for L2 (64 rows = 64 KB).
    private const int Tile = 4, KBlock = 256, NBlock = 64;

    private float[] _a = [], _b = [], _c = [];
    private int _aOffset, _bOffset, _cOffset, _m, _n, _k;
    private bool _accumulate, _byRows;

    public void Multiply(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int m, int n, int k, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.AsSpan(cOffset + i * n, n).Clear();
            return;
        }
        (_a, _aOffset, _b, _bOffset, _c, _cOffset, _m, _n, _k, _accumulate) = (a, aOffset, b, bOffset, c, cOffset, m, n, k, accumulate);
        _byRows = m >= n;
        int quads = ((_byRows ? m : n) + Tile - 1) / Tile;
        long flopsPerQuad = 2L * Tile * (_byRows ? n : m) * k;
        // Keep at least ~1 MFLOP per part so small products are not split across threads.
        int minChunk = (int)Math.Clamp(1_000_000 / Math.Max(1, flopsPerQuad), 1, quads);
        pool.For(quads, this, minChunk);
        _a = _b = _c = [];
    }

    public void Multiply(float[] a, float[] b, float[] c, int m, int n, int k, bool accumulate) =>
        Multiply(a, 0, b, 0, c, 0, m, n, k, accumulate);

    public override void Run(int start, int end, int worker)
    {
        var op = new Operands(_a, _aOffset, _k, _b, _bOffset, _k, _c, _cOffset, _n, _k, _accumulate);
        if (_byRows) Compute(op, start * Tile, Math.Min(end * Tile, _m), 0, _n);
        else Compute(op, 0, _m, start * Tile, Math.Min(end * Tile, _n));
    }

    /// <summary>Operands with leading dimensions, for sub-matrices: A rows are lda apart, B rows ldb, C rows ldc.</summary>
    internal readonly record struct Operands(float[] A, int AOffset, int Lda, float[] B, int BOffset, int Ldb,
        float[] C, int COffset, int Ldc, int K, bool Accumulate);

    /// <summary>The same product on the calling thread, for callers that already split work across threads.</summary>
    public static void MultiplyHere(in Operands op, int m, int n)
    {
        if (op.K == 0)
        {
            if (!op.Accumulate) for (int i = 0; i < m; i++) op.C.AsSpan(op.COffset + i * op.Ldc, n).Clear();
            return;
        }
        Compute(op, 0, m, 0, n);
    }

    private static void Compute(in Operands op, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        int k = op.K, lda = op.Lda, ldb = op.Ldb, ldc = op.Ldc;
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kl = Math.Min(KBlock, k - k0);
            bool add = op.Accumulate || k0 > 0;
            for (int n0 = colStart; n0 < colEnd; n0 += NBlock)
            {
                int nEnd = Math.Min(n0 + NBlock, colEnd);
                for (int i = rowStart; i < rowEnd; i += Tile)
                {
                    int rows = Math.Min(Tile, rowEnd - i);
                    ref float a = ref op.A[op.AOffset + i * lda + k0];
                    for (int j = n0; j < nEnd; j += Tile)
                    {
                        int cols = Math.Min(Tile, nEnd - j);
                        ref float b = ref op.B[op.BOffset + j * ldb + k0];
                        ref float c = ref op.C[op.COffset + i * ldc + j];
                        if (rows == Tile && cols == Tile) Tile4x4(ref a, lda, ref b, ldb, kl, ref c, ldc, add);
                        else
                            for (int r = 0; r < rows; r++)
                                for (int cc = 0; cc < cols; cc++)
                                    Tile1x1(ref Unsafe.Add(ref a, r * lda), ref Unsafe.Add(ref b, cc * ldb), kl,
                                        ref Unsafe.Add(ref c, r * ldc + cc), add);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> acc, ref float a, ref float b, int kk, int kl)
    {
        float s = Vector256.Sum(acc);
        for (; kk < kl; kk++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, kk), Unsafe.Add(ref b, kk), s);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref float c, float value, bool add) => c = add ? c + value : value;

    private static void Tile1x1(ref float a, ref float b, int kl, ref float c, bool add)
    {
        var acc = Vector256<float>.Zero;
        int kk = 0;
        for (; kk + 8 <= kl; kk += 8)
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)kk), Vector256.LoadUnsafe(ref b, (nuint)kk), acc);
        Store(ref c, Finish(acc, ref a, ref b, kk, kl), add);
    }

    // 16 accumulators + 4 B vectors + 1 A vector fit the 32 vector registers of AVX-512 machines.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(ref float a, int lda, ref float b, int ldb, int kl, ref float c, int ldc, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        nuint a1 = (nuint)lda, a2 = 2 * a1, a3 = 3 * a1, b1o = (nuint)ldb, b2o = 2 * b1o, b3o = 3 * b1o;
        int kk = 0;
        for (; kk + 8 <= kl; kk += 8)
        {
            nuint o = (nuint)kk;
            var b0 = Vector256.LoadUnsafe(ref b, o);
            var b1 = Vector256.LoadUnsafe(ref b, o + b1o);
            var b2 = Vector256.LoadUnsafe(ref b, o + b2o);
            var b3 = Vector256.LoadUnsafe(ref b, o + b3o);
            var a0 = Vector256.LoadUnsafe(ref a, o);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector256.FusedMultiplyAdd(a0, b2, c02);
            c03 = Vector256.FusedMultiplyAdd(a0, b3, c03);
            var a1v = Vector256.LoadUnsafe(ref a, o + a1);
            c10 = Vector256.FusedMultiplyAdd(a1v, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1v, b1, c11);
            c12 = Vector256.FusedMultiplyAdd(a1v, b2, c12);
            c13 = Vector256.FusedMultiplyAdd(a1v, b3, c13);
            var a2v = Vector256.LoadUnsafe(ref a, o + a2);
            c20 = Vector256.FusedMultiplyAdd(a2v, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2v, b1, c21);
            c22 = Vector256.FusedMultiplyAdd(a2v, b2, c22);
            c23 = Vector256.FusedMultiplyAdd(a2v, b3, c23);
            var a3v = Vector256.LoadUnsafe(ref a, o + a3);
            c30 = Vector256.FusedMultiplyAdd(a3v, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3v, b1, c31);
            c32 = Vector256.FusedMultiplyAdd(a3v, b2, c32);
            c33 = Vector256.FusedMultiplyAdd(a3v, b3, c33);
        }
        ref float a1r = ref Unsafe.Add(ref a, lda);
        ref float a2r = ref Unsafe.Add(ref a, 2 * lda);
        ref float a3r = ref Unsafe.Add(ref a, 3 * lda);
        ref float b1r = ref Unsafe.Add(ref b, ldb);
        ref float b2r = ref Unsafe.Add(ref b, 2 * ldb);
        ref float b3r = ref Unsafe.Add(ref b, 3 * ldb);
        ref float r1 = ref Unsafe.Add(ref c, ldc);
        ref float r2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float r3 = ref Unsafe.Add(ref c, 3 * ldc);
        Store(ref c, Finish(c00, ref a, ref b, kk, kl), add);
        Store(ref Unsafe.Add(ref c, 1), Finish(c01, ref a, ref b1r, kk, kl), add);
        Store(ref Unsafe.Add(ref c, 2), Finish(c02, ref a, ref b2r, kk, kl), add);
        Store(ref Unsafe.Add(ref c, 3), Finish(c03, ref a, ref b3r, kk, kl), add);
        Store(ref r1, Finish(c10, ref a1r, ref b, kk, kl), add);
        Store(ref Unsafe.Add(ref r1, 1), Finish(c11, ref a1r, ref b1r, kk, kl), add);
        Store(ref Unsafe.Add(ref r1, 2), Finish(c12, ref a1r, ref b2r, kk, kl), add);
        Store(ref Unsafe.Add(ref r1, 3), Finish(c13, ref a1r, ref b3r, kk, kl), add);
        Store(ref r2, Finish(c20, ref a2r, ref b, kk, kl), add);
        Store(ref Unsafe.Add(ref r2, 1), Finish(c21, ref a2r, ref b1r, kk, kl), add);
        Store(ref Unsafe.Add(ref r2, 2), Finish(c22, ref a2r, ref b2r, kk, kl), add);
        Store(ref Unsafe.Add(ref r2, 3), Finish(c23, ref a2r, ref b3r, kk, kl), add);
        Store(ref r3, Finish(c30, ref a3r, ref b, kk, kl), add);
        Store(ref Unsafe.Add(ref r3, 1), Finish(c31, ref a3r, ref b1r, kk, kl), add);
        Store(ref Unsafe.Add(ref r3, 2), Finish(c32, ref a3r, ref b2r, kk, kl), add);
        Store(ref Unsafe.Add(ref r3, 3), Finish(c33, ref a3r, ref b3r, kk, kl), add);
    }
}

/// <summary>dst (cols, rows) = src (rows, cols)^T in 32 x 32 blocks of 8 x 8 register transposes, split over threads by row blocks.</summary>
internal sealed class Transposer(WorkerPool pool) : RangeJob
{
    private const int Block = 32;
    private float[] _src = [], _dst = [];
    private int _rows, _cols, _srcOffset;

    public void Transpose(float[] src, int srcOffset, int rows, int cols, float[] dst)
    {
        (_src, _srcOffset, _rows, _cols, _dst) = (src, srcOffset, rows, cols, dst);
        int blocks = (rows + Block - 1) / Block;
        pool.For(blocks, this, Math.Max(1, 65536 / Math.Max(1, Block * cols)));
        _src = _dst = [];
    }

    public override void Run(int start, int end, int worker)
    {
        for (int r0 = start * Block; r0 < Math.Min(end * Block, _rows); r0 += Block)
        {
            int r1 = Math.Min(r0 + Block, _rows);
            for (int c0 = 0; c0 < _cols; c0 += Block)
            {
                int c1 = Math.Min(c0 + Block, _cols);
                int r = r0;
                if (Avx.IsSupported)
                    for (; r + 8 <= r1; r += 8)
                    {
                        int c = c0;
                        for (; c + 8 <= c1; c += 8) Transpose8x8(ref _src[_srcOffset + r * _cols + c], _cols, ref _dst[c * _rows + r], _rows);
                        for (; c < c1; c++)
                            for (int i = r; i < r + 8; i++) _dst[c * _rows + i] = _src[_srcOffset + i * _cols + c];
                    }
                for (; r < r1; r++)
                {
                    int s = _srcOffset + r * _cols;
                    for (int c = c0; c < c1; c++) _dst[c * _rows + r] = _src[s + c];
                }
            }
        }
    }

    // The classic AVX 8 x 8 transpose: interleave pairs of rows, then quads, then swap 128-bit halves.
    private static void Transpose8x8(ref float src, int srcStride, ref float dst, int dstStride)
    {
        nuint s = (nuint)srcStride, d = (nuint)dstStride;
        var r0 = Vector256.LoadUnsafe(ref src);
        var r1 = Vector256.LoadUnsafe(ref src, s);
        var r2 = Vector256.LoadUnsafe(ref src, 2 * s);
        var r3 = Vector256.LoadUnsafe(ref src, 3 * s);
        var r4 = Vector256.LoadUnsafe(ref src, 4 * s);
        var r5 = Vector256.LoadUnsafe(ref src, 5 * s);
        var r6 = Vector256.LoadUnsafe(ref src, 6 * s);
        var r7 = Vector256.LoadUnsafe(ref src, 7 * s);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref dst);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref dst, d);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref dst, 2 * d);
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref dst, 3 * d);
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref dst, 4 * d);
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref dst, 5 * d);
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref dst, 6 * d);
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref dst, 7 * d);
    }
}
