using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// Reads consecutive f32 weights of a row from a stored format. GemmKernel is generic over
/// this struct, so the JIT compiles one specialised kernel per format with no indirection.
/// Rows are addressed by their start (Row), computed once per block, so the inner loops index
/// from a register instead of multiplying row by width at every load.
/// </summary>
internal interface IWeightRows
{
    // Whether GemmKernel multiplies this format sixteen lanes at a time (every path alike, so
    // decode steps and verification passes sum in the same order).
    static abstract bool Wide { get; }

    // Elements one cache line holds, so a caller can touch each line once.
    static abstract int ElementsPerLine { get; }

    // The address of row `row`'s first element.
    nint Row(long row);

    Vector256<float> Load(nint row, int i);

    // Sixteen consecutive weights, for Wide formats.
    Vector512<float> Load512(nint row, int i);

    float At(nint row, int i);

    // Asks for the cache line holding element i of the row, ahead of use.
    void Prefetch(nint row, int i);
}

internal readonly unsafe struct F32Rows(float* w, int cols) : IWeightRows
{
    // f32 streams from memory at one weight per FMA, so 8 lanes keep up with memory; 16 lanes
    // measured no faster on Zen 5.
    public static bool Wide => false;

    public static int ElementsPerLine => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Row(long row) => (nint)(w + row * cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(nint row, int i) => Vector256.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Load512(nint row, int i) => Vector512.Load((float*)row + i);

    public float At(nint row, int i) => ((float*)row)[i];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(nint row, int i) { if (Sse.IsSupported) Sse.Prefetch1((float*)row + i); }
}

internal readonly unsafe struct Bf16Rows(ushort* w, int cols) : IWeightRows
{
    // Each BF16 weight costs a widening and a shift besides its FMA, which 8 lanes cannot
    // hide behind memory in a verification pass (1.9x a decode step against 1.4x at 16 lanes).
    public static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    public static int ElementsPerLine => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint Row(long row) => (nint)(w + row * cols);

    // BF16 is the top half of an f32: zero-extend to 32 bits and shift into place.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(nint row, int i)
    {
        ushort* p = (ushort*)row + i;
        Vector256<uint> wide = Avx2.IsSupported
            ? Avx2.ConvertToVector256Int32(p).AsUInt32()
            : Vector256.Create(Vector128.WidenLower(Vector128.Load(p)), Vector128.WidenUpper(Vector128.Load(p)));
        return Vector256.ShiftLeft(wide, 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Load512(nint row, int i)
    {
        Vector512<uint> wide = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + i));
        return Vector512.ShiftLeft(wide, 16).AsSingle();
    }

    public float At(nint row, int i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[i] << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(nint row, int i) { if (Sse.IsSupported) Sse.Prefetch1((ushort*)row + i); }
}
