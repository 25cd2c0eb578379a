namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Tensor element types we read and write, numbered as in ggml.h (ggml_type). Other ggml types
/// are named in error messages (GgmlTypes.Describe) but refused.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    /// <summary>Blocks of 32 4-bit values with one f16 scale: 18 bytes per block.</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32 5-bit values with one f16 scale: 22 bytes per block.</summary>
    Q5_0 = 6,
    /// <summary>Blocks of 32 5-bit values with an f16 scale and minimum: 24 bytes per block.</summary>
    Q5_1 = 7,
    /// <summary>Blocks of 32 int8 values with one f16 scale: 34 bytes per block.</summary>
    Q8_0 = 8,
    /// <summary>Super-blocks of 256 4-bit values, 8 sub-blocks with 6-bit scales and minimums: 144 bytes.</summary>
    Q4_K = 12,
    /// <summary>Super-blocks of 256 5-bit values, as Q4_K with a fifth bit plane: 176 bytes.</summary>
    Q5_K = 13,
    /// <summary>Super-blocks of 256 6-bit values, 16 sub-blocks with int8 scales: 210 bytes.</summary>
    Q6_K = 14,
    BF16 = 30,
}

public static class GgmlTypeExtensions
{
    /// <summary>Bytes per element of the unblocked types (F32, F16, BF16).</summary>
    public static int ElementSize(this GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "a block-quantised type has no per-element size; use its block size"),
    };
}

/// <summary>ggml's type traits for the types we handle: elements per block and bytes per block.</summary>
internal static class GgmlTypes
{
    /// <summary>The engine's block format that stores a ggml block type byte for byte, if type is one.</summary>
    public static Backends.WeightFormat? BlockFormat(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => Backends.WeightFormat.Q4_0,
        GgmlType.Q5_0 => Backends.WeightFormat.Q5_0,
        GgmlType.Q5_1 => Backends.WeightFormat.Q5_1,
        GgmlType.Q8_0 => Backends.WeightFormat.Q8_0,
        GgmlType.Q4_K => Backends.WeightFormat.Q4_K,
        GgmlType.Q5_K => Backends.WeightFormat.Q5_K,
        GgmlType.Q6_K => Backends.WeightFormat.Q6_K,
        _ => null,
    };

    /// <summary>The weight format a matrix of this type can be kept in byte for byte (the block formats and BF16), else null.</summary>
    public static Backends.WeightFormat? WeightFormat(GgmlType type) => type == GgmlType.BF16 ? Backends.WeightFormat.BF16 : BlockFormat(type);

    /// <summary>The type named in lower or upper case (f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k, q6_k), or null for any other text.</summary>
    public static GgmlType? ParseName(string name) =>
        Enum.GetValues<GgmlType>().Cast<GgmlType?>().FirstOrDefault(t => t.ToString()!.Equals(name, StringComparison.OrdinalIgnoreCase));

    public static int BlockSize(GgmlType type) => BlockFormat(type) is { } f ? Backends.BlockFormats.BlockWeights(f) : 1;

    public static int BlockBytes(GgmlType type) => BlockFormat(type) is { } f ? Backends.BlockFormats.BlockBytes(f) : type.ElementSize();

    /// <summary>Bytes of elements values; elements must be a multiple of the block size.</summary>
    public static long ByteSize(GgmlType type, long elements) => elements / BlockSize(type) * BlockBytes(type);

    public static bool IsSupported(uint type) => Enum.IsDefined((GgmlType)type);

    public static string Supported => string.Join(", ", Enum.GetValues<GgmlType>().Select(t => $"{t} ({(uint)t})"));

    // ggml.h's names for the types it defines, so an unsupported one is reported by name.
    private static readonly string?[] s_names =
    [
        "F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", null, null, null, "TQ1_0", "TQ2_0", null, null, null, "MXFP4",
    ];

    public static string Describe(uint type) =>
        type < s_names.Length && s_names[type] is string name ? $"{name} ({type})" : $"unknown ggml type {type}";
}
