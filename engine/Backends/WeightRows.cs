using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Backends;

/// <summary>
/// Reads eight consecutive f32 weights of a row from a stored format. GemmKernel is generic
/// over this struct, so the JIT compiles one specialised kernel per format with no indirection.
/// </summary>
internal interface IWeightRows
{
    Vector256<float> Load(long row, int i);
    float At(long row, int i);

    // Asks for the cache line holding element `element` of the row-major matrix, ahead of use.
    void Prefetch(long element);

    // Elements one cache line holds, so a caller can touch each line once.
    int ElementsPerLine { get; }
}

internal readonly unsafe struct F32Rows(float* w, int cols) : IWeightRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(long row, int i) => Vector256.Load(w + row * cols + i);

    public float At(long row, int i) => w[row * cols + i];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(long element) { if (Sse.IsSupported) Sse.Prefetch1(w + element); }

    public int ElementsPerLine => 16;
}

internal readonly unsafe struct Bf16Rows(ushort* w, int cols) : IWeightRows
{
    // BF16 is the top half of an f32: zero-extend to 32 bits and shift into place.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(long row, int i)
    {
        ushort* p = w + row * cols + i;
        Vector256<uint> wide = Avx2.IsSupported
            ? Avx2.ConvertToVector256Int32(p).AsUInt32()
            : Vector256.Create(Vector128.WidenLower(Vector128.Load(p)), Vector128.WidenUpper(Vector128.Load(p)));
        return Vector256.ShiftLeft(wide, 16).AsSingle();
    }

    public float At(long row, int i) => BitConverter.UInt32BitsToSingle((uint)w[row * cols + i] << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(long element) { if (Sse.IsSupported) Sse.Prefetch1(w + element); }

    public int ElementsPerLine => 32;
}
