using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Bench;

/// <summary>
/// The most 8-bit multiply-adds one core does per second with the instruction our AVX2 block kernels
/// are built on (vpmaddubsw, its int16 sums added up): eight independent chains in registers, no memory.
/// A verification pass can be no faster than its multiply-adds at this rate; what it takes beyond that is
/// unpacking, scaling and waiting for memory. NaN without AVX2.
/// </summary>
internal static class Int8Peak
{
    public static double MultiplyAddsPerSecond()
    {
        if (!Avx2.IsSupported) return double.NaN;
        const long steps = 20_000_000;
        double best = double.MaxValue;
        short sink = 0;
        for (int pass = 0; pass < 4; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            sink ^= Chains(steps);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        GC.KeepAlive(sink);
        return steps * 8 * 32 / best;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static short Chains(long steps)
    {
        // Changing the unsigned side each step keeps the JIT from hoisting the products out of the loop.
        var u = Vector256.Create((byte)3);
        Vector256<sbyte> x0 = Vector256.Create((sbyte)5), x1 = Vector256.Create((sbyte)-7);
        Vector256<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (long i = 0; i < steps; i++)
        {
            a0 += Avx2.MultiplyAddAdjacent(u, x0);
            a1 += Avx2.MultiplyAddAdjacent(u, x1);
            a2 += Avx2.MultiplyAddAdjacent(u, x0);
            a3 += Avx2.MultiplyAddAdjacent(u, x1);
            a4 += Avx2.MultiplyAddAdjacent(u, x0);
            a5 += Avx2.MultiplyAddAdjacent(u, x1);
            a6 += Avx2.MultiplyAddAdjacent(u, x0);
            a7 += Avx2.MultiplyAddAdjacent(u, x1);
            u += Vector256<byte>.One;
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
