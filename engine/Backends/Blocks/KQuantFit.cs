namespace DistillSpec.Backends;

/// <summary>
/// The scale searches ggml's reference K-quant quantizers run per sub-block (make_qkx2_quants
/// for Q4_K/Q5_K, make_qx_quants for Q6_K), followed operation for operation in f32 so the
/// chosen quants match llama.cpp's; and the 6-bit scale/min packing Q4_K and Q5_K share.
/// </summary>
internal static class KQuantFit
{
    private const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// Fits x ~ scale * L - min with L in [0, nmax], minimising the weighted squared error over
    /// nstep + 1 candidate scales. Returns scale; min comes back as a non-negative offset.
    /// </summary>
    public static float ScaleAndMin(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, int nmax, Span<byte> levels,
        out float min, float rmin, float rdelta, int nstep)
    {
        int n = x.Length;
        Span<byte> trial = stackalloc byte[n];
        float lo = x[0], hi = x[0];
        float sumW = weights[0], sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < lo) lo = x[i];
            if (x[i] > hi) hi = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (lo > 0) lo = 0;
        if (hi == lo)
        {
            levels[..n].Clear();
            min = -lo;
            return 0f;
        }
        float iscale = nmax / (hi - lo);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = BlockFormats.NearestInt(iscale * (x[i] - lo));
            levels[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * levels[i] + lo - x[i];
            bestError += weights[i] * (diff * diff);
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (hi - lo);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(0, Math.Min(nmax, BlockFormats.NearestInt(iscale * (x[i] - lo))));
                trial[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * trial[i] + thisMin - x[i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError)
                {
                    trial.CopyTo(levels);
                    bestError = error;
                    scale = thisScale;
                    lo = thisMin;
                }
            }
        }
        min = -lo;
        return scale;
    }

    /// <summary>
    /// Fits x ~ scale * (L - nmax) with L in [0, 2 nmax), weighting each value by x^2, trying
    /// 19 scales around nmax / max|x|. Returns scale (signed: the largest |x| maps to -nmax).
    /// </summary>
    public static float SymmetricScale(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, BlockFormats.NearestInt(iscale * x[i])));
            levels[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(-nmax, Math.Min(nmax - 1, BlockFormats.NearestInt(iscale * x[i])));
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; i++)
                    levels[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, BlockFormats.NearestInt(iscale * x[i]))));
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /// <summary>
    /// Sub-block j's 6-bit scale and min from the 12 packed bytes of Q4_K/Q5_K: j &lt; 4 sit in
    /// bytes j and j + 4; j >= 4 keep their low four bits in byte j + 4 and their top two in the
    /// spare top bits of bytes j - 4 (scale) and j (min).
    /// </summary>
    public static (int Scale, int Min) UnpackScaleMin(ReadOnlySpan<byte> packed, int j) => j < 4
        ? (packed[j] & 63, packed[j + 4] & 63)
        : ((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4), (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));

    public static void PackScaleMin(Span<byte> packed, int j, int scale, int min)
    {
        if (j < 4)
        {
            packed[j] = (byte)scale;
            packed[j + 4] = (byte)min;
        }
        else
        {
            packed[j + 4] = (byte)((scale & 0xF) | ((min & 0xF) << 4));
            packed[j - 4] |= (byte)((scale >> 4) << 6);
            packed[j] |= (byte)((min >> 4) << 6);
        }
    }
}
