using System.Buffers.Binary;
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
            case GgmlType.Q8_0: DequantizeQ8(stored, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "no f32 conversion");
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
            case GgmlType.Q8_0: QuantizeQ8(values, bytes); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "no f32 conversion");
        }
        return bytes;
    }

    // A Q8_0 block: f16 scale d, then 32 int8 q; value i = d * q[i].
    private static void DequantizeQ8(ReadOnlySpan<byte> stored, Span<float> destination)
    {
        for (int b = 0; b < destination.Length / GgmlTypes.Q8Block; b++)
        {
            var block = stored.Slice(b * GgmlTypes.Q8BlockBytes, GgmlTypes.Q8BlockBytes);
            float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block));
            var q = MemoryMarshal.Cast<byte, sbyte>(block[2..]);
            var o = destination.Slice(b * GgmlTypes.Q8Block, GgmlTypes.Q8Block);
            for (int i = 0; i < o.Length; i++) o[i] = d * q[i];
        }
    }

    // ggml's reference quantize_row_q8_0: d = amax / 127 stored as f16, q = round(x / d) with the f32 d.
    private static void QuantizeQ8(ReadOnlySpan<float> values, Span<byte> bytes)
    {
        for (int b = 0; b < values.Length / GgmlTypes.Q8Block; b++)
        {
            var x = values.Slice(b * GgmlTypes.Q8Block, GgmlTypes.Q8Block);
            float amax = 0f;
            foreach (float v in x) amax = Math.Max(amax, Math.Abs(v));
            float d = amax / 127f, inverse = d != 0f ? 1f / d : 0f;
            var block = bytes.Slice(b * GgmlTypes.Q8BlockBytes, GgmlTypes.Q8BlockBytes);
            BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)d));
            var q = MemoryMarshal.Cast<byte, sbyte>(block[2..]);
            for (int i = 0; i < x.Length; i++) q[i] = (sbyte)MathF.Round(x[i] * inverse, MidpointRounding.AwayFromZero);
        }
    }
}
