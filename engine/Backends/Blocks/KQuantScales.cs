namespace DistillSpec.Backends;

/// <summary>
/// The part of ggml's Q4_K and Q5_K reference quantizers they share: each 32-weight sub-block
/// gets its own scale and min (make_qkx2_quants weighted by rms + |x|), both are quantised to
/// 6 bits against the super-block's largest, and every weight is then re-fitted to the
/// quantised scale and min. The caller packs the levels into its own bit layout.
/// </summary>
internal static class KQuantScales
{
    /// <summary>x (256) -> d, dmin, 12 packed scale/min bytes, and levels (256) in [0, nmax].</summary>
    public static void Fit(ReadOnlySpan<float> x, int nmax, float rmin, int nstep, Span<byte> block, int packedAt, Span<byte> levels)
    {
        Span<float> scales = stackalloc float[8], mins = stackalloc float[8], weights = stackalloc float[32];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            var sub = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += sub[l] * sub[l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(sub[l]);
            scales[j] = KQuantFit.ScaleAndMin(sub, weights, nmax, levels.Slice(32 * j, 32), out mins[j], rmin, 0.1f, nstep);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        var packed = block.Slice(packedAt, 12);
        for (int j = 0; j < 8; j++)
        {
            int ls = Math.Min(63, (int)(byte)BlockFormats.NearestInt(invScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)BlockFormats.NearestInt(invMin * mins[j]));
            KQuantFit.PackScaleMin(packed, j, ls, lm);
        }
        BlockFormats.WriteHalf(block, 0, maxScale / 63f);
        BlockFormats.WriteHalf(block, 2, maxMin / 63f);
        float superScale = BlockFormats.ReadHalf(block, 0), superMin = BlockFormats.ReadHalf(block, 2);
        for (int j = 0; j < 8; j++)
        {
            var (sc, m) = KQuantFit.UnpackScaleMin(packed, j);
            float d = superScale * sc;
            if (d == 0f) continue;
            float dm = superMin * m;
            for (int i = 0; i < 32; i++)
                levels[32 * j + i] = (byte)Math.Max(0, Math.Min(nmax, BlockFormats.NearestInt((x[32 * j + i] + dm) / d)));
        }
    }
}
