using System.Buffers.Binary;
using DistillSpec.Backends;

namespace DistillSpec.QuantFixtures;

/// <summary>Inputs that reach the quantizers' corners as well as their common case.</summary>
internal static class Inputs
{
    /// <summary>
    /// (rows, cols) row-major: gaussian rows at scales from 1e-3 to 1e2, then one all-zero row,
    /// one constant row, one with a single outlier, and one of all-positive values (min 0 for
    /// the K-quants) — each row its own block sequence.
    /// </summary>
    public static float[] Rows(int rows, int cols, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            switch (r)
            {
                case 4: break;
                case 5: row.Fill(0.37f); break;
                case 6:
                    for (int i = 0; i < cols; i++) row[i] = Gaussian(random) * 0.01f;
                    row[cols / 3] = 5f;
                    break;
                case 7:
                    for (int i = 0; i < cols; i++) row[i] = MathF.Abs(Gaussian(random));
                    break;
                default:
                    float scale = MathF.Pow(10f, r - 3);
                    for (int i = 0; i < cols; i++) row[i] = Gaussian(random) * scale;
                    break;
            }
        }
        return x;
    }

    /// <summary>Random bytes, with each f16 field set to a random finite value, so every quant and scale bit pattern can appear.</summary>
    public static byte[] Blocks(WeightFormat format, int count, int seed)
    {
        var random = new Random(seed);
        int size = BlockFormats.BlockBytes(format);
        var bytes = new byte[count * size];
        random.NextBytes(bytes);
        int[] halves = format switch
        {
            WeightFormat.Q8_0 or WeightFormat.Q4_0 or WeightFormat.Q5_0 => [0],
            WeightFormat.Q5_1 => [0, 2],
            WeightFormat.Q4_K or WeightFormat.Q5_K => [0, 2],
            WeightFormat.Q6_K => [208],
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        for (int b = 0; b < count; b++)
            foreach (int at in halves)
                BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(b * size + at), (Half)(Gaussian(random) * MathF.Pow(10f, random.Next(-6, 3))));
        return bytes;
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
