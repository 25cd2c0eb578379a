using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q5_K: Q4_K's layout with a fifth bit per weight, 176 bytes: f16 d, f16 dmin, 12
/// bytes of 6-bit scales and mins, 32 bytes of high bits, 128 bytes of nibbles. Weight 64c + l
/// takes its high bit from bit 2c of high-bit byte l, weight 64c + 32 + l from bit 2c + 1;
/// w = d * scale_j * q - dmin * min_j with q in [0, 31].
/// </summary>
internal unsafe struct Q5KBlock : ISuperBlock
{
    public const int ScalesAt = 4, HighBitsAt = 16, QuantsAt = 48;

    public static WeightFormat Format => WeightFormat.Q5_K;
    public static int BlockWeights => 256;
    public static int BlockBytes => 176;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[256];
        KQuantScales.Fit(x, 31, -0.5f, 15, block, ScalesAt, levels);
        var high = block.Slice(HighBitsAt, 32);
        high.Clear();
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
            {
                int lo = levels[64 * c + l], hi = levels[64 * c + 32 + l];
                high[l] |= (byte)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
                block[QuantsAt + 32 * c + l] = (byte)((lo & 0xF) | (hi & 0xF) << 4);
            }
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0), dmin = BlockFormats.ReadHalf(block, 2);
        var packed = block.Slice(ScalesAt, 12);
        var high = block.Slice(HighBitsAt, 32);
        for (int c = 0; c < 4; c++)
        {
            var (sc0, m0) = KQuantFit.UnpackScaleMin(packed, 2 * c);
            var (sc1, m1) = KQuantFit.UnpackScaleMin(packed, 2 * c + 1);
            float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
            var q = block.Slice(QuantsAt + 32 * c, 32);
            for (int l = 0; l < 32; l++)
            {
                y[64 * c + l] = d0 * ((q[l] & 0xF) + ((high[l] >> (2 * c)) & 1) * 16) - min0;
                y[64 * c + 32 + l] = d1 * ((q[l] >> 4) + ((high[l] >> (2 * c + 1)) & 1) * 16) - min1;
            }
        }
    }

    public static void Scales(byte* block, short* scales, short* offsets, out float dScale, out float dOffset) =>
        Q4KBlock.Scales(block, scales, offsets, out dScale, out dOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Quants(byte* block, int j)
    {
        var packed = Vector256.Load(block + QuantsAt + 32 * (j >> 1));
        if ((j & 1) != 0) packed = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte();
        var bit = Vector256.ShiftRightLogical(Vector256.Load(block + HighBitsAt).AsUInt16(), j).AsByte() & Vector256.Create((byte)1);
        return (packed & Vector256.Create((byte)0xF)) | Vector256.ShiftLeft(bit.AsUInt16(), 4).AsByte();
    }

    public static int Quant(byte* block, int k)
    {
        int within = k & 63, l = within & 31;
        int packed = block[QuantsAt + 32 * (k >> 6) + l];
        int high = (block[HighBitsAt + l] >> (2 * (k >> 6) + (within >> 5))) & 1;
        return (within < 32 ? packed & 0xF : packed >> 4) | high << 4;
    }
}
