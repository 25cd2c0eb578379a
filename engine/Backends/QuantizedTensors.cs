using DistillSpec.Numerics;

namespace DistillSpec.Backends;

/// <summary>A (rows, cols) weight matrix held as BF16 bit patterns in host memory.</summary>
public sealed class Bf16Tensor : Tensor
{
    public Bf16Tensor(ReadOnlySpan<float> data, int rows, int cols) : base(rows * cols)
    {
        Rows = rows;
        Cols = cols;
        Bits = new ushort[data.Length];
        FloatConversion.SingleToBFloat16(data, Bits);
    }

    /// <summary>Takes BF16 bit patterns as they are (a checkpoint's stored bytes).</summary>
    internal Bf16Tensor(ushort[] bits, int rows, int cols) : base(checked(rows * cols))
    {
        if (bits.Length != rows * cols) throw new ArgumentException($"a ({rows}, {cols}) BF16 matrix takes {rows * cols} values, got {bits.Length}", nameof(bits));
        Rows = rows;
        Cols = cols;
        Bits = bits;
    }

    public int Rows { get; }
    public int Cols { get; }
    public ushort[] Bits { get; }

    public void DequantizeRow(int row, Span<float> destination) =>
        FloatConversion.BFloat16ToSingle(Bits.AsSpan(row * Cols, Cols), destination);
}

/// <summary>
/// A (rows, cols) weight matrix quantised to ggml's Q8_0 (int8 in blocks of 32 along each row,
/// one f16 scale per block), split into a quants array and the scales widened to f32: the
/// layout the GPU kernels read. The CPU keeps Q8_0 as ggml blocks (BlockTensor).
/// </summary>
public sealed class Q8Tensor : Tensor
{
    public Q8Tensor(ReadOnlySpan<float> data, int rows, int cols) : base(rows * cols)
    {
        if (cols % WeightFormats.Q8BlockSize != 0)
            throw new ArgumentException($"Q8_0 needs rows whose length is a multiple of {WeightFormats.Q8BlockSize}; this matrix is ({rows}, {cols})");
        Rows = rows;
        Cols = cols;
        Quants = new sbyte[data.Length];
        Scales = new float[data.Length / WeightFormats.Q8BlockSize];
        Span<byte> block = stackalloc byte[Q8_0Block.BlockBytes];
        for (int b = 0; b < Scales.Length; b++)
        {
            Q8_0Block.Quantize(data.Slice(b * WeightFormats.Q8BlockSize, WeightFormats.Q8BlockSize), block);
            Scales[b] = BlockFormats.ReadHalf(block, 0);
            for (int i = 0; i < WeightFormats.Q8BlockSize; i++) Quants[b * WeightFormats.Q8BlockSize + i] = (sbyte)block[2 + i];
        }
    }

    public int Rows { get; }
    public int Cols { get; }
    public sbyte[] Quants { get; }
    public float[] Scales { get; }

    public void DequantizeRow(int row, Span<float> destination)
    {
        for (int i = 0; i < Cols; i++)
        {
            int at = row * Cols + i;
            destination[i] = Quants[at] * Scales[at / WeightFormats.Q8BlockSize];
        }
    }
}
