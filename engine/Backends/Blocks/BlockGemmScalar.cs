namespace DistillSpec.Backends;

/// <summary>
/// BlockGemm's arithmetic in plain integer loops: runs on any CPU, and is what the SIMD paths
/// must agree with (the same integer dot per block or super-block, summed in f32).
/// </summary>
internal static unsafe class BlockGemmScalar
{
    public static void Run(WeightFormat format, ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
    {
        switch (format)
        {
            case WeightFormat.Q8_0: Block32<Q8_0Block>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_0: Block32<Q4_0Block>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_0: Block32<Q5_0Block>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_1: Block32<Q5_1Block>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q4_K: SuperBlock<Q4KBlock>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q5_K: SuperBlock<Q5KBlock>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            case WeightFormat.Q6_K: SuperBlock<Q6KBlock>(a, w, rowBytes, oStart, oEnd, bias, y, outDim); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format");
        }
    }

    private static void Block32<TF>(ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TF : struct, IBlock32
    {
        int n = a.Cols, blocks = n / 32;
        for (int o = oStart; o < oEnd; o++)
            for (int r = 0; r < a.Rows; r++)
            {
                sbyte* q = a.Quants + (long)r * n;
                float sum = 0;
                for (int b = 0; b < blocks; b++)
                {
                    byte* block = w + (long)o * rowBytes + b * TF.BlockBytes;
                    int dot = 0;
                    for (int i = 0; i < 32; i++) dot += TF.Weight(block, i) * q[32 * b + i];
                    sum += TF.Scale(block) * a.Scales[(long)r * blocks + b] * dot;
                    if (TF.HasMin) sum += TF.Min(block) * a.Offsets[(long)r * blocks + b];
                }
                y[(long)r * outDim + o] = sum + (bias is null ? 0f : bias[o]);
            }
    }

    private static void SuperBlock<TF>(ActivationBlocks a, byte* w, int rowBytes, int oStart, int oEnd, float* bias, float* y, int outDim)
        where TF : struct, ISuperBlock
    {
        int n = a.Cols, supers = n / 256;
        short* scales = stackalloc short[16], offsets = stackalloc short[16];
        for (int o = oStart; o < oEnd; o++)
            for (int r = 0; r < a.Rows; r++)
            {
                sbyte* q = a.Quants + (long)r * n;
                short* sums = a.Sums + (long)r * (n / 16);
                float sum = 0;
                for (int s = 0; s < supers; s++)
                {
                    byte* block = w + (long)o * rowBytes + s * TF.BlockBytes;
                    TF.Scales(block, scales, offsets, out float dScale, out float dOffset);
                    int dots = 0, offsetDots = 0;
                    for (int g = 0; g < 16; g++)
                    {
                        int dot = 0;
                        for (int i = 0; i < 16; i++) dot += TF.Quant(block, 16 * g + i) * q[256 * s + 16 * g + i];
                        dots += scales[g] * dot;
                        offsetDots += offsets[g] * sums[16 * s + g];
                    }
                    float dx = a.Scales[(long)r * supers + s];
                    sum += dScale * dx * dots - dOffset * dx * offsetDots;
                }
                y[(long)r * outDim + o] = sum + (bias is null ? 0f : bias[o]);
            }
    }
}
