using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q6_K: 256 weights in 16 sub-blocks of 16, each with an int8 scale, 210 bytes: 128
/// bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales, f16 d (last). In half
/// h (128 weights) and for l in [0, 32): low-nibble byte 64h + l holds weights l (low) and
/// l + 64 (high), byte 64h + 32 + l weights l + 32 and l + 96; high byte 32h + l holds the top
/// two bits of l, l + 32, l + 64, l + 96 at bits 0, 2, 4, 6. w = d * scale_(k/16) * (q - 32).
/// </summary>
internal unsafe struct Q6KBlock : ISuperBlock
{
    public const int HighBitsAt = 128, ScalesAt = 192, DAt = 208;

    public static WeightFormat Format => WeightFormat.Q6_K;
    public static int BlockWeights => 256;
    public static int BlockBytes => 210;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int s = 0; s < 16; s++)
        {
            scales[s] = KQuantFit.SymmetricScale(x.Slice(16 * s, 16), 32, levels.Slice(16 * s, 16));
            if (MathF.Abs(scales[s]) > maxAbsScale)
            {
                maxAbsScale = MathF.Abs(scales[s]);
                maxScale = scales[s];
            }
        }
        block.Clear();
        if (maxAbsScale < 1e-15f) return;
        float iscale = -128f / maxScale;
        BlockFormats.WriteHalf(block, DAt, 1 / iscale);
        float d = BlockFormats.ReadHalf(block, DAt);
        for (int s = 0; s < 16; s++) block[ScalesAt + s] = (byte)(sbyte)Math.Min(127, BlockFormats.NearestInt(iscale * scales[s]));
        for (int s = 0; s < 16; s++)
        {
            float ds = d * (sbyte)block[ScalesAt + s];
            if (ds == 0f) continue;
            for (int i = 0; i < 16; i++)
                levels[16 * s + i] = (sbyte)(Math.Max(-32, Math.Min(31, BlockFormats.NearestInt(x[16 * s + i] / ds))) + 32);
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++)
            {
                int k = 128 * h + l;
                int q0 = levels[k], q1 = levels[k + 32], q2 = levels[k + 64], q3 = levels[k + 96];
                block[64 * h + l] = (byte)((q0 & 0xF) | (q2 & 0xF) << 4);
                block[64 * h + 32 + l] = (byte)((q1 & 0xF) | (q3 & 0xF) << 4);
                block[HighBitsAt + 32 * h + l] = (byte)(q0 >> 4 | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
            }
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, DAt);
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++)
            {
                int k = 128 * h + l;
                int lo = block[64 * h + l], hi = block[64 * h + 32 + l], top = block[HighBitsAt + 32 * h + l];
                y[k] = d * Scale(block, k) * (((lo & 0xF) | (top & 3) << 4) - 32);
                y[k + 32] = d * Scale(block, k + 32) * (((hi & 0xF) | ((top >> 2) & 3) << 4) - 32);
                y[k + 64] = d * Scale(block, k + 64) * (((lo >> 4) | ((top >> 4) & 3) << 4) - 32);
                y[k + 96] = d * Scale(block, k + 96) * (((hi >> 4) | ((top >> 6) & 3) << 4) - 32);
            }
    }

    private static sbyte Scale(ReadOnlySpan<byte> block, int k) => (sbyte)block[ScalesAt + k / 16];

    // w = d * scale_g * (q - 32): the offset per group of 16 is 32 * scale_g, with the same d.
    public static void Scales(byte* block, short* scales, short* offsets, out float dScale, out float dOffset)
    {
        for (int g = 0; g < 16; g++)
        {
            scales[g] = (sbyte)block[ScalesAt + g];
            offsets[g] = (short)(32 * scales[g]);
        }
        dScale = dOffset = BlockFormats.HalfToSingle(*(ushort*)(block + DAt));
    }

    // Sub-block j is weights 128h + 32g + [0, 32) with h = j / 4, g = j % 4.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Quants(byte* block, int j)
    {
        int h = j >> 2, g = j & 3;
        var low = Vector256.Load(block + 64 * h + 32 * (g & 1));
        if (g >= 2) low = Vector256.ShiftRightLogical(low.AsUInt16(), 4).AsByte();
        var high = Vector256.ShiftRightLogical(Vector256.Load(block + HighBitsAt + 32 * h).AsUInt16(), 2 * g).AsByte() & Vector256.Create((byte)3);
        return (low & Vector256.Create((byte)0xF)) | Vector256.ShiftLeft(high.AsUInt16(), 4).AsByte();
    }

    public static int Quant(byte* block, int k)
    {
        int h = k >> 7, g = (k >> 5) & 3, l = k & 31;
        int packed = block[64 * h + 32 * (g & 1) + l];
        int high = (block[HighBitsAt + 32 * h + l] >> (2 * g)) & 3;
        return (g < 2 ? packed & 0xF : packed >> 4) | high << 4;
    }
}
