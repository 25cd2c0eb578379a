namespace DistillSpec.Backends;

/// <summary>Host-memory weight matrices in any WeightFormat, shared by the CPU backends.</summary>
internal static class CpuWeights
{
    public static Tensor Create(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format)
    {
        if (data.Length != rows * cols)
            throw new ArgumentException($"matrix ({rows}, {cols}) needs {rows * cols} values, got {data.Length}");
        return format switch
        {
            WeightFormat.F32 => new CpuTensor(data.ToArray()),
            WeightFormat.BF16 => new Bf16Tensor(data, rows, cols),
            _ when BlockFormats.IsBlockFormat(format) =>
                Blocks(WeightFormats.ForRow(format, cols), rows, cols, BlockFormats.Quantize(WeightFormats.ForRow(format, cols), data, cols)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown weight format"),
        };
    }

    /// <summary>A matrix given as stored bytes in format, kept as given (f32 is copied out of the bytes).</summary>
    public static Tensor FromStored(WeightFormat format, int rows, int cols, byte[] stored) => format switch
    {
        WeightFormat.F32 => new CpuTensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stored).ToArray()),
        WeightFormat.BF16 => new Bf16Tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(stored).ToArray(), rows, cols),
        _ => Blocks(format, rows, cols, stored),
    };

    // Block formats the interleaved kernels take are interleaved where this CPU runs them.
    private static Tensor Blocks(WeightFormat format, int rows, int cols, byte[] stored) =>
        InterleavedBlocks.IsSupported && InterleavedBlocks.Takes(format)
            ? new InterleavedBlocks(format, rows, cols, stored)
            : new BlockTensor(format, rows, cols, stored);

    /// <summary>destination (cols) = row `row` of a weight matrix, expanded to f32.</summary>
    public static void Row(Tensor matrix, int row, int cols, Span<float> destination)
    {
        switch (matrix)
        {
            case CpuTensor f: f.Data.AsSpan(row * cols, cols).CopyTo(destination); break;
            case Bf16Tensor h: h.DequantizeRow(row, destination); break;
            case BlockTensor b: b.DequantizeRow(row, destination); break;
            case InterleavedBlocks b: b.DequantizeRow(row, destination); break;
            default: throw new ArgumentException($"weights of type {matrix.GetType().Name} are not host memory");
        }
    }
}
