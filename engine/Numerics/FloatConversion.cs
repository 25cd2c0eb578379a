using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace DistillSpec.Numerics;

/// <summary>
/// Conversions between f32 and the two 16-bit float formats used in checkpoints.
/// f16 values are carried as <see cref="Half"/>, bf16 values as their raw <see cref="ushort"/> bits
/// (bf16 is simply the top half of an f32).
/// </summary>
public static class FloatConversion
{
    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    // The Half conversion operator already rounds to nearest even and maps overflow to infinity.
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        // A NaN whose payload lives only in the low 16 bits would truncate to infinity, so force the quiet bit.
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (ushort)((bits >> 16) | 0x0040u);
        uint lsb = (bits >> 16) & 1u;
        return (ushort)((bits + 0x7FFFu + lsb) >> 16);
    }

    public static void HalfToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToSingle(source, destination);
    }

    public static void SingleToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToHalf(source, destination);
    }

    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        Span<uint> dst = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            for (; i <= source.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(source.Slice(i)), out Vector<uint> lo, out Vector<uint> hi);
                (lo << 16).CopyTo(dst.Slice(i));
                (hi << 16).CopyTo(dst.Slice(i + Vector<uint>.Count));
            }
        }
        for (; i < source.Length; i++)
            dst[i] = (uint)source[i] << 16;
    }

    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        ReadOnlySpan<uint> src = MemoryMarshal.Cast<float, uint>(source);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            for (; i <= src.Length - step; i += step)
            {
                Vector<uint> lo = RoundToBFloat16(new Vector<uint>(src.Slice(i)));
                Vector<uint> hi = RoundToBFloat16(new Vector<uint>(src.Slice(i + Vector<uint>.Count)));
                Vector.Narrow(lo, hi).CopyTo(destination.Slice(i));
            }
        }
        for (; i < src.Length; i++)
            destination[i] = SingleToBFloat16(BitConverter.UInt32BitsToSingle(src[i]));
    }

    // Lane-wise twin of the scalar SingleToBFloat16; result is in the low 16 bits of each lane.
    private static Vector<uint> RoundToBFloat16(Vector<uint> bits)
    {
        Vector<uint> rounded = (bits + new Vector<uint>(0x7FFFu) + ((bits >> 16) & Vector<uint>.One)) >> 16;
        Vector<uint> isNaN = Vector.GreaterThan(bits & new Vector<uint>(0x7FFF_FFFFu), new Vector<uint>(0x7F80_0000u));
        Vector<uint> quietNaN = (bits >> 16) | new Vector<uint>(0x0040u);
        return Vector.ConditionalSelect(isNaN, quietNaN, rounded);
    }

    private static void CheckLengths(int source, int destination)
    {
        if (source != destination)
            throw new ArgumentException($"Destination length {destination} does not match source length {source}.", nameof(destination));
    }
}
