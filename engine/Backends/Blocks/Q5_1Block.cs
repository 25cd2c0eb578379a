using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q5_1: 32 weights as an f16 scale d, an f16 minimum m, 4 bytes of fifth bits (as Q5_0),
/// then 16 bytes of nibbles; w = d * q + m with q in [0, 31]. 24 bytes. llama.cpp's quantizer
/// stores Q5_K as Q5_1 in rows that are not whole 256-weight super-blocks (Q5_K_M files of
/// Qwen2.5-0.5B and the like). A dot with 8-bit activations is d d_x sum(q x) + m s_x, with s_x
/// the activations' block sum times their scale (ActivationBlocks.Offsets), as ggml's Q8_1.
/// </summary>
internal unsafe struct Q5_1Block : IBlock32
{
    public const int MinAt = 2, HighBitsAt = 4, QuantsAt = 8;

    public static WeightFormat Format => WeightFormat.Q5_1;
    public static int BlockWeights => 32;
    public static int BlockBytes => 24;
    public static bool HasMin => true;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 31f;
        float id = d != 0f ? 1f / d : 0f;
        BlockFormats.WriteHalf(block, 0, d);
        BlockFormats.WriteHalf(block, MinAt, min);
        uint high = 0;
        for (int j = 0; j < 16; j++)
        {
            // ggml truncates (x - min) / d + 0.5 to uint8: rounds to nearest, at most 31.
            int q0 = (byte)(int)((x[j] - min) * id + 0.5f);
            int q1 = (byte)(int)((x[j + 16] - min) * id + 0.5f);
            block[QuantsAt + j] = (byte)((q0 & 0xF) | (q1 & 0xF) << 4);
            high |= (uint)((q0 >> 4) & 1) << j | (uint)((q1 >> 4) & 1) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[HighBitsAt..], high);
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0), m = BlockFormats.ReadHalf(block, MinAt);
        uint high = BinaryPrimitives.ReadUInt32LittleEndian(block[HighBitsAt..]);
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((block[QuantsAt + j] & 0xF) | (int)((high >> j) & 1) << 4) * d + m;
            y[j + 16] = ((block[QuantsAt + j] >> 4) | (int)((high >> (j + 16)) & 1) << 4) * d + m;
        }
    }

    public static float Scale(byte* block) => BlockFormats.HalfToSingle(*(ushort*)block);

    public static float Min(byte* block) => BlockFormats.HalfToSingle(*(ushort*)(block + MinAt));

    /// <summary>q in [0, 31]: w = Scale * q + Min.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Weights(byte* block)
    {
        var packed = Vector128.Load(block + QuantsAt);
        var low = packed & Vector128.Create((byte)0xF);
        var high = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0xF);
        return (Vector256.Create(low, high) | Q5_0Block.FifthBits(*(uint*)(block + HighBitsAt))).AsSByte();
    }

    public static int Weight(byte* block, int i)
    {
        int nibble = i < 16 ? block[QuantsAt + i] & 0xF : block[QuantsAt + i - 16] >> 4;
        return nibble | (int)((*(uint*)(block + HighBitsAt) >> i) & 1) << 4;
    }
}
