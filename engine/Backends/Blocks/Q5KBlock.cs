namespace DistillSpec.Backends;

/// <summary>
/// ggml's Q5_K: Q4_K's layout with a fifth bit per weight, 176 bytes: f16 d, f16 dmin, 12
/// bytes of 6-bit scales and mins, 32 bytes of high bits, 128 bytes of nibbles. Weight 64c + l
/// takes its high bit from bit 2c of high-bit byte l, weight 64c + 32 + l from bit 2c + 1;
/// w = d * scale_j * q - dmin * min_j with q in [0, 31].
/// </summary>
internal struct Q5KBlock : IBlockFormat
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
}
