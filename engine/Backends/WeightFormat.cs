namespace DistillSpec.Backends;

/// <summary>
/// How a weight matrix is stored on a backend. BF16 is expanded to f32 inside MatMul; the
/// block formats (ggml's Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, byte for byte) stay packed, and the CPU
/// multiplies them with activations rounded to 8 bits using integer dot products. Fewer bytes
/// per weight is what memory-bound decoding streams per token.
/// </summary>
public enum WeightFormat
{
    F32,
    BF16,
    /// <summary>Blocks of 32 int8 values along a row with one f16 scale each: ggml's Q8_0.</summary>
    Q8_0,
    /// <summary>Blocks of 32 4-bit values with one f16 scale: ggml's Q4_0.</summary>
    Q4_0,
    /// <summary>Super-blocks of 256 4-bit values with 6-bit scales and mins per 32: ggml's Q4_K.</summary>
    Q4_K,
    /// <summary>Super-blocks of 256 5-bit values with 6-bit scales and mins per 32: ggml's Q5_K.</summary>
    Q5_K,
    /// <summary>Super-blocks of 256 6-bit values with int8 scales per 16: ggml's Q6_K.</summary>
    Q6_K,
    /// <summary>Blocks of 32 5-bit values with one f16 scale: ggml's Q5_0.</summary>
    Q5_0,
    /// <summary>Blocks of 32 5-bit values with an f16 scale and minimum: ggml's Q5_1.</summary>
    Q5_1,
}

public static class WeightFormats
{
    public const int Q8BlockSize = 32;
    public const int Q8BlockShift = 5; // log2(Q8BlockSize)

    /// <summary>The names Parse accepts, in lower case.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f32", "bf16", "q8_0", "q8", "q4_0", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k"];

    /// <summary>The names, for a help text or an error: "f32, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k".</summary>
    internal static string Expected => "f32, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k";

    /// <summary>Bytes one weight occupies in the format, scales included: what decoding streams per weight.</summary>
    public static double BytesPerWeight(WeightFormat format) => format switch
    {
        WeightFormat.F32 => 4,
        WeightFormat.BF16 => 2,
        _ when BlockFormats.IsBlockFormat(format) =>
            (double)BlockFormats.BlockBytes(format) / BlockFormats.BlockWeights(format),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown weight format"),
    };

    public static WeightFormat Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" => WeightFormat.F32,
        "bf16" => WeightFormat.BF16,
        "q8" or "q8_0" => WeightFormat.Q8_0,
        "q4_0" => WeightFormat.Q4_0,
        "q5_0" => WeightFormat.Q5_0,
        "q5_1" => WeightFormat.Q5_1,
        "q4_k" => WeightFormat.Q4_K,
        "q5_k" => WeightFormat.Q5_K,
        "q6_k" => WeightFormat.Q6_K,
        _ => throw new ArgumentException($"unknown weight format '{text}'; expected {Expected}"),
    };

    /// <summary>Bytes a row of cols weights takes when stored in format (BF16 bits or ggml blocks).</summary>
    internal static int RowBytes(WeightFormat format, int cols) => format switch
    {
        WeightFormat.F32 => checked(cols * 4),
        WeightFormat.BF16 => checked(cols * 2),
        _ => BlockFormats.RowBytes(format, cols),
    };

    /// <summary>The count weights that stored bytes in format hold (whole rows), in a new array.</summary>
    internal static float[] Decode(WeightFormat format, ReadOnlySpan<byte> stored, long count)
    {
        var values = new float[count];
        Decode(format, stored, values);
        return values;
    }

    /// <summary>values = the weights that stored bytes in format hold (whole rows).</summary>
    internal static void Decode(WeightFormat format, ReadOnlySpan<byte> stored, Span<float> values)
    {
        switch (format)
        {
            case WeightFormat.F32: System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(stored).CopyTo(values); break;
            case WeightFormat.BF16: Numerics.FloatConversion.BFloat16ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(stored), values); break;
            default: BlockFormats.Dequantize(format, stored, values); break;
        }
    }

    /// <summary>
    /// The format a matrix with rows of `cols` weights is stored in when `format` is asked for:
    /// a K-quant needs whole 256-weight super-blocks, and a row that is not one (Qwen2.5-0.5B's
    /// 896, SmolLM2's 576) falls back to a 32-block format as llama.cpp's quantizer does: Q4_K
    /// to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0.
    /// </summary>
    internal static WeightFormat ForRow(WeightFormat format, int cols) => format switch
    {
        WeightFormat.Q4_K when cols % 256 != 0 => WeightFormat.Q5_0,
        WeightFormat.Q5_K when cols % 256 != 0 => WeightFormat.Q5_1,
        WeightFormat.Q6_K when cols % 256 != 0 => WeightFormat.Q8_0,
        _ => format,
    };
}
