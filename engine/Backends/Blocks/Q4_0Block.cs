using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q4_0: 32 weights as an f16 scale d then 16 bytes of nibbles; byte j holds weight j
/// in its low nibble and weight j + 16 in its high one; w = d * (q - 8). 18 bytes.
/// </summary>
internal unsafe struct Q4_0Block : IBlock32
{
    public static WeightFormat Format => WeightFormat.Q4_0;
    public static int BlockWeights => 32;
    public static int BlockBytes => 18;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        // The signed value of largest magnitude maps to -8, so the full [-8, 7] range is used on its side.
        float d = BlockFormats.SignedExtreme(x) / -8f;
        float id = d != 0f ? 1f / d : 0f;
        BlockFormats.WriteHalf(block, 0, d);
        for (int j = 0; j < 16; j++)
        {
            // Truncation after adding 8.5 rounds to nearest; the 16 from +max is clamped to 15.
            int q0 = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int q1 = Math.Min(15, (int)(sbyte)(x[j + 16] * id + 8.5f));
            block[2 + j] = (byte)(q0 | q1 << 4);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0);
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((block[2 + j] & 0xF) - 8) * d;
            y[j + 16] = ((block[2 + j] >> 4) - 8) * d;
        }
    }

    public static float Scale(byte* block) => BlockFormats.HalfToSingle(*(ushort*)block);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Weights(byte* block)
    {
        var packed = Vector128.Load(block + 2);
        var low = packed & Vector128.Create((byte)0xF);
        var high = Vector128.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0xF);
        return Vector256.Create(low, high).AsSByte() - Vector256.Create((sbyte)8);
    }

    public static int Weight(byte* block, int i) => (i < 16 ? block[2 + i] & 0xF : block[2 + i - 16] >> 4) - 8;
}
