using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// The integer dot products the block kernels are built from, one struct per instruction set
/// so the JIT compiles one kernel per set and each can be run (and tested) on its own.
/// Results are eight int32 lanes, lane i summing bytes 4i..4i+3 of the 32.
/// </summary>
internal interface IIntDot
{
    static abstract bool IsSupported { get; }

    /// <summary>Lanes of w * a, both signed; a in [-127, 127].</summary>
    static abstract Vector256<int> DotSigned(Vector256<sbyte> w, Vector256<sbyte> a);

    /// <summary>acc + lanes of scale * (u * a): u unsigned in [0, 63], a signed, scale one int16 per byte pair.</summary>
    static abstract Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a, Vector256<short> scale);
}

/// <summary>
/// AVX2: vpmaddubsw (u8 x s8 pairs to s16) then vpmaddwd. A signed w goes in as |w| with a's
/// sign flipped where w is negative (vpsignb), as u8 x s8 needs; 2 * 128 * 127 fits s16, and
/// so does 2 * 63 * 127 for the 6-bit quants.
/// </summary>
internal struct Avx2Dot : IIntDot
{
    public static bool IsSupported => Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSigned(Vector256<sbyte> w, Vector256<sbyte> a) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w)), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a, Vector256<short> scale) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), scale));
}

/// <summary>
/// AVX-VNNI: vpdpbusd sums four u8 x s8 products into each int32 lane in one instruction, and
/// vpdpwssd folds the scale multiply and the accumulate of the s16 pairs into one.
/// </summary>
internal struct VnniDot : IIntDot
{
    public static bool IsSupported => AvxVnni.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotSigned(Vector256<sbyte> w, Vector256<sbyte> a) =>
        AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Avx2.Abs(w), Avx2.Sign(a, w));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotScaled(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a, Vector256<short> scale) =>
        AvxVnni.MultiplyWideningAndAdd(acc, Avx2.MultiplyAddAdjacent(u, a), scale);
}

/// <summary>Which integer dot product a block kernel runs on.</summary>
internal enum IntDotPath
{
    /// <summary>Plain integer loops: any CPU, and the SIMD paths' reference.</summary>
    Scalar,
    Avx2,
    /// <summary>AVX-512BW: two 32-weight blocks (or K-quant sub-blocks) per vpmaddubsw.</summary>
    Avx512,
    AvxVnni,
}
