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

    public int Rows { get; }
    public int Cols { get; }
    public ushort[] Bits { get; }

    public void DequantizeRow(int row, Span<float> destination) =>
        FloatConversion.BFloat16ToSingle(Bits.AsSpan(row * Cols, Cols), destination);
}

/// <summary>A (rows, cols) weight matrix quantised to int8 in blocks of 32 along each row, one scale per block.</summary>
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
        for (int b = 0; b < Scales.Length; b++)
        {
            var block = data.Slice(b * WeightFormats.Q8BlockSize, WeightFormats.Q8BlockSize);
            float max = 0f;
            foreach (float v in block) max = Math.Max(max, Math.Abs(v));
            float scale = max / 127f;
            Scales[b] = scale;
            float inverse = scale == 0f ? 0f : 1f / scale;
            for (int i = 0; i < block.Length; i++) Quants[b * WeightFormats.Q8BlockSize + i] = (sbyte)Math.Round(block[i] * inverse);
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
