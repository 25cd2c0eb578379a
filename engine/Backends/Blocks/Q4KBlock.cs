using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q4_K: 256 weights in 8 sub-blocks of 32, 144 bytes: f16 d, f16 dmin, 12 bytes of
/// 6-bit scales and mins (KQuantFit.UnpackScaleMin), then 128 bytes of nibbles. Nibble byte
/// 32c + l holds weight 64c + l (sub-block 2c) low and 64c + 32 + l (sub-block 2c + 1) high;
/// w = d * scale_j * q - dmin * min_j.
/// </summary>
internal unsafe struct Q4KBlock : ISuperBlock
{
    public const int ScalesAt = 4, QuantsAt = 16;

    public static WeightFormat Format => WeightFormat.Q4_K;
    public static int BlockWeights => 256;
    public static int BlockBytes => 144;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[256];
        KQuantScales.Fit(x, 15, -1f, 20, block, ScalesAt, levels);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                block[QuantsAt + 32 * c + l] = (byte)(levels[64 * c + l] | levels[64 * c + 32 + l] << 4);
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0), dmin = BlockFormats.ReadHalf(block, 2);
        var packed = block.Slice(ScalesAt, 12);
        for (int c = 0; c < 4; c++)
        {
            var (sc0, m0) = KQuantFit.UnpackScaleMin(packed, 2 * c);
            var (sc1, m1) = KQuantFit.UnpackScaleMin(packed, 2 * c + 1);
            float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
            var q = block.Slice(QuantsAt + 32 * c, 32);
            for (int l = 0; l < 32; l++)
            {
                y[64 * c + l] = d0 * (q[l] & 0xF) - min0;
                y[64 * c + 32 + l] = d1 * (q[l] >> 4) - min1;
            }
        }
    }

    public static void Scales(byte* block, short* scales, short* offsets, out float dScale, out float dOffset)
    {
        var packed = new ReadOnlySpan<byte>(block + ScalesAt, 12);
        for (int j = 0; j < 8; j++)
        {
            var (sc, m) = KQuantFit.UnpackScaleMin(packed, j);
            scales[2 * j] = scales[2 * j + 1] = (short)sc;
            offsets[2 * j] = offsets[2 * j + 1] = (short)m;
        }
        dScale = BlockFormats.HalfToSingle(*(ushort*)block);
        dOffset = BlockFormats.HalfToSingle(*(ushort*)(block + 2));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Quants(byte* block, int j)
    {
        var packed = Vector256.Load(block + QuantsAt + 32 * (j >> 1));
        if ((j & 1) != 0) packed = Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte();
        return packed & Vector256.Create((byte)0xF);
    }

    public static int Quant(byte* block, int k)
    {
        int within = k & 63;
        int packed = block[QuantsAt + 32 * (k >> 6) + (within & 31)];
        return within < 32 ? packed & 0xF : packed >> 4;
    }
}
