using System.Runtime.InteropServices;
using DistillSpec.Numerics;

namespace DistillSpec.Formats.Gguf;

/// <summary>Converts tensor data between ggml's stored types and f32.</summary>
internal static class GgmlCodec
{
    /// <summary>destination = stored, expanded to f32; stored holds exactly destination.Length values of type.</summary>
    public static void ToSingle(GgmlType type, ReadOnlySpan<byte> stored, Span<float> destination)
    {
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(stored).CopyTo(destination); break;
            case GgmlType.F16: FloatConversion.HalfToSingle(MemoryMarshal.Cast<byte, Half>(stored), destination); break;
            case GgmlType.BF16: FloatConversion.BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(stored), destination); break;
            default:
                if (GgmlTypes.BlockFormat(type) is not { } format) throw new ArgumentOutOfRangeException(nameof(type), type, "no f32 conversion");
                Backends.BlockFormats.Dequantize(format, stored, destination);
                break;
        }
    }

    /// <summary>The stored bytes of values in type.</summary>
    public static byte[] FromSingle(GgmlType type, ReadOnlySpan<float> values)
    {
        var bytes = new byte[GgmlTypes.ByteSize(type, values.Length)];
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.AsBytes(values).CopyTo(bytes); break;
            case GgmlType.F16: FloatConversion.SingleToHalf(values, MemoryMarshal.Cast<byte, Half>(bytes.AsSpan())); break;
            case GgmlType.BF16: FloatConversion.SingleToBFloat16(values, MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan())); break;
            default:
                if (GgmlTypes.BlockFormat(type) is not { } format) throw new ArgumentOutOfRangeException(nameof(type), type, "no f32 conversion");
                return Backends.BlockFormats.Quantize(format, values, values.Length);
        }
        return bytes;
    }
}
