namespace DistillSpec.Backends;

/// <summary>
/// A (rows, cols) weight matrix in one of ggml's block formats: row r is bytes
/// [r * RowBytes, (r + 1) * RowBytes) of Blocks, laid out exactly as in a GGUF file.
/// </summary>
internal sealed class BlockTensor : Tensor
{
    /// <summary>Wraps blocks already in the format (from a GGUF file, or a quantizer).</summary>
    public BlockTensor(WeightFormat format, int rows, int cols, byte[] blocks) : base(checked(rows * cols))
    {
        if (!BlockFormats.IsBlockFormat(format))
            throw new ArgumentException($"{format} is not a block format", nameof(format));
        BlockFormats.CheckShape(format, rows, cols);
        long expected = (long)rows * BlockFormats.RowBytes(format, cols);
        if (blocks.Length != expected)
            throw new ArgumentException($"a ({rows}, {cols}) {format} matrix takes {expected} bytes, got {blocks.Length}", nameof(blocks));
        Format = format;
        Rows = rows;
        Cols = cols;
        RowBytes = BlockFormats.RowBytes(format, cols);
        Blocks = blocks;
    }

    public WeightFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes { get; }
    public byte[] Blocks { get; }

    /// <summary>data (rows * cols, row-major) quantised with ggml's reference quantizer for format.</summary>
    public static BlockTensor Quantize(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format)
    {
        BlockFormats.CheckShape(format, rows, cols);
        return new BlockTensor(format, rows, cols, BlockFormats.Quantize(format, data, cols));
    }

    public void DequantizeRow(int row, Span<float> destination) =>
        BlockFormats.Dequantize(Format, Blocks.AsSpan(row * RowBytes, RowBytes), destination[..Cols]);
}
