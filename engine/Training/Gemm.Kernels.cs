using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Training;

internal sealed unsafe partial class Gemm
{
    // 12 rows x 32 columns: 24 zmm accumulators, 2 B vectors and a broadcast of the 32 AVX-512 registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32(float* a, float* b, int kc, float* c, nint ldc, bool load)
    {
        Vector512<float> c0a, c0b, c1a, c1b;
        Vector512<float> c2a, c2b, c3a, c3b;
        Vector512<float> c4a, c4b, c5a, c5b;
        Vector512<float> c6a, c6b, c7a, c7b;
        Vector512<float> c8a, c8b, c9a, c9b;
        Vector512<float> cAa, cAb, cBa, cBb;
        if (load)
        {
            c0a = Vector512.Load(c); c0b = Vector512.Load(c + 16);
            c1a = Vector512.Load(c + ldc); c1b = Vector512.Load(c + ldc + 16);
            c2a = Vector512.Load(c + 2 * ldc); c2b = Vector512.Load(c + 2 * ldc + 16);
            c3a = Vector512.Load(c + 3 * ldc); c3b = Vector512.Load(c + 3 * ldc + 16);
            c4a = Vector512.Load(c + 4 * ldc); c4b = Vector512.Load(c + 4 * ldc + 16);
            c5a = Vector512.Load(c + 5 * ldc); c5b = Vector512.Load(c + 5 * ldc + 16);
            c6a = Vector512.Load(c + 6 * ldc); c6b = Vector512.Load(c + 6 * ldc + 16);
            c7a = Vector512.Load(c + 7 * ldc); c7b = Vector512.Load(c + 7 * ldc + 16);
            c8a = Vector512.Load(c + 8 * ldc); c8b = Vector512.Load(c + 8 * ldc + 16);
            c9a = Vector512.Load(c + 9 * ldc); c9b = Vector512.Load(c + 9 * ldc + 16);
            cAa = Vector512.Load(c + 10 * ldc); cAb = Vector512.Load(c + 10 * ldc + 16);
            cBa = Vector512.Load(c + 11 * ldc); cBb = Vector512.Load(c + 11 * ldc + 16);
        }
        else
        {
            c0a = c0b = c1a = c1b = c2a = c2b = c3a = c3b = c4a = c4b = c5a = c5b = c6a = c6b = c7a = c7b = c8a = c8b = c9a = c9b = cAa = cAb = cBa = cBb = Vector512<float>.Zero;
        }
        for (int p = 0; p < kc; p++, a += 12, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x0 = Vector512.Create(a[0]); c0a = Vector512.FusedMultiplyAdd(x0, b0, c0a); c0b = Vector512.FusedMultiplyAdd(x0, b1, c0b);
            var x1 = Vector512.Create(a[1]); c1a = Vector512.FusedMultiplyAdd(x1, b0, c1a); c1b = Vector512.FusedMultiplyAdd(x1, b1, c1b);
            var x2 = Vector512.Create(a[2]); c2a = Vector512.FusedMultiplyAdd(x2, b0, c2a); c2b = Vector512.FusedMultiplyAdd(x2, b1, c2b);
            var x3 = Vector512.Create(a[3]); c3a = Vector512.FusedMultiplyAdd(x3, b0, c3a); c3b = Vector512.FusedMultiplyAdd(x3, b1, c3b);
            var x4 = Vector512.Create(a[4]); c4a = Vector512.FusedMultiplyAdd(x4, b0, c4a); c4b = Vector512.FusedMultiplyAdd(x4, b1, c4b);
            var x5 = Vector512.Create(a[5]); c5a = Vector512.FusedMultiplyAdd(x5, b0, c5a); c5b = Vector512.FusedMultiplyAdd(x5, b1, c5b);
            var x6 = Vector512.Create(a[6]); c6a = Vector512.FusedMultiplyAdd(x6, b0, c6a); c6b = Vector512.FusedMultiplyAdd(x6, b1, c6b);
            var x7 = Vector512.Create(a[7]); c7a = Vector512.FusedMultiplyAdd(x7, b0, c7a); c7b = Vector512.FusedMultiplyAdd(x7, b1, c7b);
            var x8 = Vector512.Create(a[8]); c8a = Vector512.FusedMultiplyAdd(x8, b0, c8a); c8b = Vector512.FusedMultiplyAdd(x8, b1, c8b);
            var x9 = Vector512.Create(a[9]); c9a = Vector512.FusedMultiplyAdd(x9, b0, c9a); c9b = Vector512.FusedMultiplyAdd(x9, b1, c9b);
            var xA = Vector512.Create(a[10]); cAa = Vector512.FusedMultiplyAdd(xA, b0, cAa); cAb = Vector512.FusedMultiplyAdd(xA, b1, cAb);
            var xB = Vector512.Create(a[11]); cBa = Vector512.FusedMultiplyAdd(xB, b0, cBa); cBb = Vector512.FusedMultiplyAdd(xB, b1, cBb);
        }
        c0a.Store(c); c0b.Store(c + 16);
        c1a.Store(c + ldc); c1b.Store(c + ldc + 16);
        c2a.Store(c + 2 * ldc); c2b.Store(c + 2 * ldc + 16);
        c3a.Store(c + 3 * ldc); c3b.Store(c + 3 * ldc + 16);
        c4a.Store(c + 4 * ldc); c4b.Store(c + 4 * ldc + 16);
        c5a.Store(c + 5 * ldc); c5b.Store(c + 5 * ldc + 16);
        c6a.Store(c + 6 * ldc); c6b.Store(c + 6 * ldc + 16);
        c7a.Store(c + 7 * ldc); c7b.Store(c + 7 * ldc + 16);
        c8a.Store(c + 8 * ldc); c8b.Store(c + 8 * ldc + 16);
        c9a.Store(c + 9 * ldc); c9b.Store(c + 9 * ldc + 16);
        cAa.Store(c + 10 * ldc); cAb.Store(c + 10 * ldc + 16);
        cBa.Store(c + 11 * ldc); cBb.Store(c + 11 * ldc + 16);
    }

    // 6 rows x 16 columns for machines without AVX-512: 12 ymm accumulators of the 16 AVX2 registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(float* a, float* b, int kc, float* c, nint ldc, bool load)
    {
        Vector256<float> c0a, c0b, c1a, c1b;
        Vector256<float> c2a, c2b, c3a, c3b;
        Vector256<float> c4a, c4b, c5a, c5b;
        if (load)
        {
            c0a = Vector256.Load(c); c0b = Vector256.Load(c + 8);
            c1a = Vector256.Load(c + ldc); c1b = Vector256.Load(c + ldc + 8);
            c2a = Vector256.Load(c + 2 * ldc); c2b = Vector256.Load(c + 2 * ldc + 8);
            c3a = Vector256.Load(c + 3 * ldc); c3b = Vector256.Load(c + 3 * ldc + 8);
            c4a = Vector256.Load(c + 4 * ldc); c4b = Vector256.Load(c + 4 * ldc + 8);
            c5a = Vector256.Load(c + 5 * ldc); c5b = Vector256.Load(c + 5 * ldc + 8);
        }
        else
        {
            c0a = c0b = c1a = c1b = c2a = c2b = c3a = c3b = c4a = c4b = c5a = c5b = Vector256<float>.Zero;
        }
        for (int p = 0; p < kc; p++, a += 6, b += 16)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x0 = Vector256.Create(a[0]); c0a = Vector256.FusedMultiplyAdd(x0, b0, c0a); c0b = Vector256.FusedMultiplyAdd(x0, b1, c0b);
            var x1 = Vector256.Create(a[1]); c1a = Vector256.FusedMultiplyAdd(x1, b0, c1a); c1b = Vector256.FusedMultiplyAdd(x1, b1, c1b);
            var x2 = Vector256.Create(a[2]); c2a = Vector256.FusedMultiplyAdd(x2, b0, c2a); c2b = Vector256.FusedMultiplyAdd(x2, b1, c2b);
            var x3 = Vector256.Create(a[3]); c3a = Vector256.FusedMultiplyAdd(x3, b0, c3a); c3b = Vector256.FusedMultiplyAdd(x3, b1, c3b);
            var x4 = Vector256.Create(a[4]); c4a = Vector256.FusedMultiplyAdd(x4, b0, c4a); c4b = Vector256.FusedMultiplyAdd(x4, b1, c4b);
            var x5 = Vector256.Create(a[5]); c5a = Vector256.FusedMultiplyAdd(x5, b0, c5a); c5b = Vector256.FusedMultiplyAdd(x5, b1, c5b);
        }
        c0a.Store(c); c0b.Store(c + 8);
        c1a.Store(c + ldc); c1b.Store(c + ldc + 8);
        c2a.Store(c + 2 * ldc); c2b.Store(c + 2 * ldc + 8);
        c3a.Store(c + 3 * ldc); c3b.Store(c + 3 * ldc + 8);
        c4a.Store(c + 4 * ldc); c4b.Store(c + 4 * ldc + 8);
        c5a.Store(c + 5 * ldc); c5b.Store(c + 5 * ldc + 8);
    }
}
