namespace DistillSpec.Formats.Gguf;

/// <summary>
/// A tensor's entry in the GGUF header. Dimensions are in GGUF (ggml "ne") order: the first is the
/// contiguous one, so a row-major (out, in) matrix is stored with Dimensions [in, out].
/// Offset counts from the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dimensions, GgmlType Type, long Offset)
{
    /// <summary>The row-major shape, i.e. Dimensions reversed.</summary>
    public long[] Shape => Dimensions.Reverse().ToArray();

    public long ElementCount => Dimensions.Aggregate(1L, (n, d) => n * d);

    public long ByteSize => GgmlTypes.ByteSize(Type, ElementCount);
}
