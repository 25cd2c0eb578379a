namespace DistillSpec.Backends;

/// <summary>
/// How a weight matrix is stored on a backend. Compute is always f32: BF16 and Q8_0 are
/// expanded on the fly inside MatMul and Embed, which halves or quarters the bytes that
/// memory-bound decoding streams per token.
/// </summary>
public enum WeightFormat
{
    F32,
    BF16,
    /// <summary>Blocks of 32 int8 values along a row with one f32 scale each (llama.cpp's Q8_0 idea).</summary>
    Q8_0,
}

public static class WeightFormats
{
    public const int Q8BlockSize = 32;
    public const int Q8BlockShift = 5; // log2(Q8BlockSize)

    /// <summary>The names Parse accepts, in lower case.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f32", "bf16", "q8_0", "q8"];

    /// <summary>Bytes one weight occupies in the format, scales included: what decoding streams per weight.</summary>
    public static double BytesPerWeight(WeightFormat format) => format switch
    {
        WeightFormat.F32 => 4,
        WeightFormat.BF16 => 2,
        WeightFormat.Q8_0 => 1 + 4.0 / Q8BlockSize,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown weight format"),
    };

    public static WeightFormat Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" => WeightFormat.F32,
        "bf16" => WeightFormat.BF16,
        "q8" or "q8_0" => WeightFormat.Q8_0,
        _ => throw new ArgumentException($"unknown weight format '{text}'; expected f32, bf16 or q8_0"),
    };
}
