using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q5_0: 32 weights as an f16 scale d, 4 bytes of fifth bits (bit j of the little-endian
/// word is weight j's), then 16 bytes of nibbles (byte j: weight j low, weight j + 16 high);
/// w = d * (q - 16). 22 bytes. llama.cpp's quantizer stores the K-quants it cannot fit in rows
/// that are not whole 256-weight super-blocks (Qwen2.5-0.5B's 896) as Q5_0 in Q4_K_M files.
/// </summary>
internal unsafe struct Q5_0Block : IBlock32
{
    public const int HighBitsAt = 2, QuantsAt = 6;

    public static WeightFormat Format => WeightFormat.Q5_0;
    public static int BlockWeights => 32;
    public static int BlockBytes => 22;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        // As Q4_0: the signed value of largest magnitude maps to -16, the other side clamped to 15.
        float d = BlockFormats.SignedExtreme(x) / -16f;
        float id = d != 0f ? 1f / d : 0f;
        BlockFormats.WriteHalf(block, 0, d);
        uint high = 0;
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(31, (int)(sbyte)(x[j] * id + 16.5f));
            int q1 = Math.Min(31, (int)(sbyte)(x[j + 16] * id + 16.5f));
            block[QuantsAt + j] = (byte)((q0 & 0xF) | (q1 & 0xF) << 4);
            high |= (uint)(q0 >> 4) << j | (uint)(q1 >> 4) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[HighBitsAt..], high);
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0);
        uint high = BinaryPrimitives.ReadUInt32LittleEndian(block[HighBitsAt..]);
        for (int j = 0; j < 16; j++)
        {
            y[j] = (((block[QuantsAt + j] & 0xF) | (int)((high >> j) & 1) << 4) - 16) * d;
            y[j + 16] = (((block[QuantsAt + j] >> 4) | (int)((high >> (j + 16)) & 1) << 4) - 16) * d;
        }
    }

    public static float Scale(byte* block) => BlockFormats.HalfToSingle(*(ushort*)block);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Weights(byte* block)
    {
        var packed = Vector128.Load(block + QuantsAt);
        var low = packed & Vector128.Create((byte)0xF);
        var high = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0xF);
        return (Vector256.Create(low, high) | FifthBits(*(uint*)(block + HighBitsAt))).AsSByte() - Vector256.Create((sbyte)16);
    }

    /// <summary>Byte j = 16 where bit j of `bits` is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBits(uint bits)
    {
        // Byte j takes the word's byte j / 8 (each 128-bit half holds the whole word) and tests bit j % 8 of it.
        var spread = System.Runtime.Intrinsics.X86.Avx2.Shuffle(Vector256.Create(bits).AsByte(),
            Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var bit = Vector256.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)16);
    }

    public static int Weight(byte* block, int i)
    {
        int nibble = i < 16 ? block[QuantsAt + i] & 0xF : block[QuantsAt + i - 16] >> 4;
        return (nibble | (int)((*(uint*)(block + HighBitsAt) >> i) & 1) << 4) - 16;
    }
}
