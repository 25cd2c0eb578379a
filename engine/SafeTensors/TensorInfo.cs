namespace DistillSpec.SafeTensors;

/// <summary>One header entry. <see cref="Begin"/> and <see cref="End"/> are byte offsets relative to the data section.</summary>
public sealed record TensorInfo(string Name, DType DType, int[] Shape, long Begin, long End)
{
    // Shapes are validated (non-negative, no overflow) before a TensorInfo is built, so checked arithmetic never fires for loaded tensors.
    public long ElementCount { get; } = Product(Shape);

    public long ByteLength => End - Begin;

    internal static long Product(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
            n = checked(n * d);
        return n;
    }

    public override string ToString() => $"{Name}: {DTypeInfo.Name(DType)}[{string.Join(", ", Shape)}] @ [{Begin}, {End})";
}
