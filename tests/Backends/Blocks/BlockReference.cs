using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends.Blocks;

/// <summary>What the integer kernels must compute, in double: one weight row times one row of 8-bit activations.</summary>
internal static unsafe class BlockReference
{
    /// <summary>
    /// The dequantised row o of w times activation row r: sum of w_i * q_i * d_x. A format with a
    /// minimum (Q5_1) meets the activations' block offsets instead of their exact sums, as ggml's
    /// Q8_1 does: m * s_x, with s_x = fp16(d * sum q) (ActivationBlocks.Offsets).
    /// </summary>
    public static double Dot(BlockTensor w, int o, ReadOnlySpan<float> dequantised, ActivationBlocks a, int r)
    {
        int n = a.Cols;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)dequantised[i] * a.Quants[r * n + i] * a.Scales[(r * n + i) / a.BlockSize];
        if (w.Format != WeightFormat.Q5_1) return sum;
        for (int b = 0; b < n / 32; b++)
        {
            float m = (float)BitConverter.ToHalf(w.Blocks, o * w.RowBytes + b * Q5_1Block.BlockBytes + Q5_1Block.MinAt);
            int quants = 0;
            for (int i = 0; i < 32; i++) quants += a.Quants[r * n + 32 * b + i];
            sum += m * (a.Offsets[r * (n / 32) + b] - (double)a.Scales[r * (n / 32) + b] * quants);
        }
        return sum;
    }
}
