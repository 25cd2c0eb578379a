namespace DistillSpec.Formats.Gguf;

/// <summary>Tensor element types we read and write, numbered as in ggml.h (ggml_type); the quantised ones are left out.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
}

public static class GgmlTypeExtensions
{
    public static int ElementSize(this GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "only F32 and F16 are supported"),
    };
}
