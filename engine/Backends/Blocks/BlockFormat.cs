using System.Buffers.Binary;

namespace DistillSpec.Backends;

/// <summary>
/// One of ggml's block formats: a row of weights is cut into blocks of BlockWeights values,
/// each stored in BlockBytes bytes exactly as ggml lays it out (ggml-common.h), so a block read
/// from a GGUF file and one quantised here are interchangeable.
/// </summary>
internal interface IBlockFormat
{
    static abstract WeightFormat Format { get; }
    static abstract int BlockWeights { get; }
    static abstract int BlockBytes { get; }

    // x (BlockWeights) -> block (BlockBytes), following ggml's reference quantizer.
    static abstract void Quantize(ReadOnlySpan<float> x, Span<byte> block);

    // block (BlockBytes) -> y (BlockWeights), bit-exact with ggml's dequantize_row_*.
    static abstract void Dequantize(ReadOnlySpan<byte> block, Span<float> y);
}

/// <summary>
/// What the integer kernels read from a 32-weight block format (Q8_0, Q4_0, Q5_0, Q5_1): one scale,
/// 32 integer weights and, where HasMin, a minimum: w_i = Scale * Weight_i (+ Min).
/// </summary>
internal unsafe interface IBlock32 : IBlockFormat
{
    static abstract float Scale(byte* block);

    /// <summary>Whether the block adds Min to every weight (Q5_1); a dot then gains Min * the activations' block offset.</summary>
    static virtual bool HasMin => false;

    static virtual float Min(byte* block) => 0f;

    static abstract System.Runtime.Intrinsics.Vector256<sbyte> Weights(byte* block);
    static abstract int Weight(byte* block, int i);
}

/// <summary>
/// What the integer kernels read from a 256-weight super-block (Q4_K, Q5_K, Q6_K), in one form
/// for all three: w_k = dScale * scales[k / 16] * q_k - dOffset * offsets[k / 16], with q_k
/// unsigned in [0, 63] and the 16 scales and offsets small integers, so a super-block's dot
/// with 8-bit activations is integer up to two f32 multiplies.
/// </summary>
internal unsafe interface ISuperBlock : IBlockFormat
{
    static abstract void Scales(byte* block, short* scales, short* offsets, out float dScale, out float dOffset);

    /// <summary>q of sub-block j (weights 32j..32j+31).</summary>
    static abstract System.Runtime.Intrinsics.Vector256<byte> Quants(byte* block, int j);

    static abstract int Quant(byte* block, int k);
}

/// <summary>Row-level quantisation and dequantisation for every block format, and the f16 fields they share.</summary>
internal static class BlockFormats
{
    public static bool IsBlockFormat(WeightFormat format) => format is WeightFormat.Q8_0 or WeightFormat.Q4_0 or WeightFormat.Q5_0 or WeightFormat.Q5_1
        or WeightFormat.Q4_K or WeightFormat.Q5_K or WeightFormat.Q6_K;

    public static int BlockWeights(WeightFormat format) => format switch
    {
        WeightFormat.Q8_0 => Q8_0Block.BlockWeights,
        WeightFormat.Q4_0 => Q4_0Block.BlockWeights,
        WeightFormat.Q5_0 => Q5_0Block.BlockWeights,
        WeightFormat.Q5_1 => Q5_1Block.BlockWeights,
        WeightFormat.Q4_K => Q4KBlock.BlockWeights,
        WeightFormat.Q5_K => Q5KBlock.BlockWeights,
        WeightFormat.Q6_K => Q6KBlock.BlockWeights,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format"),
    };

    public static int BlockBytes(WeightFormat format) => format switch
    {
        WeightFormat.Q8_0 => Q8_0Block.BlockBytes,
        WeightFormat.Q4_0 => Q4_0Block.BlockBytes,
        WeightFormat.Q5_0 => Q5_0Block.BlockBytes,
        WeightFormat.Q5_1 => Q5_1Block.BlockBytes,
        WeightFormat.Q4_K => Q4KBlock.BlockBytes,
        WeightFormat.Q5_K => Q5KBlock.BlockBytes,
        WeightFormat.Q6_K => Q6KBlock.BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format"),
    };

    /// <summary>Bytes one row of `cols` weights takes; cols must be a whole number of blocks.</summary>
    public static int RowBytes(WeightFormat format, int cols) => cols / BlockWeights(format) * BlockBytes(format);

    /// <summary>x (rows * cols, row-major) -> rows * RowBytes bytes of blocks.</summary>
    public static byte[] Quantize(WeightFormat format, ReadOnlySpan<float> x, int cols) => format switch
    {
        WeightFormat.Q8_0 => Quantize<Q8_0Block>(x, cols),
        WeightFormat.Q4_0 => Quantize<Q4_0Block>(x, cols),
        WeightFormat.Q5_0 => Quantize<Q5_0Block>(x, cols),
        WeightFormat.Q5_1 => Quantize<Q5_1Block>(x, cols),
        WeightFormat.Q4_K => Quantize<Q4KBlock>(x, cols),
        WeightFormat.Q5_K => Quantize<Q5KBlock>(x, cols),
        WeightFormat.Q6_K => Quantize<Q6KBlock>(x, cols),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format"),
    };

    /// <summary>Blocks of a whole number of rows -> their f32 values.</summary>
    public static void Dequantize(WeightFormat format, ReadOnlySpan<byte> blocks, Span<float> y)
    {
        switch (format)
        {
            case WeightFormat.Q8_0: Dequantize<Q8_0Block>(blocks, y); break;
            case WeightFormat.Q4_0: Dequantize<Q4_0Block>(blocks, y); break;
            case WeightFormat.Q5_0: Dequantize<Q5_0Block>(blocks, y); break;
            case WeightFormat.Q5_1: Dequantize<Q5_1Block>(blocks, y); break;
            case WeightFormat.Q4_K: Dequantize<Q4KBlock>(blocks, y); break;
            case WeightFormat.Q5_K: Dequantize<Q5KBlock>(blocks, y); break;
            case WeightFormat.Q6_K: Dequantize<Q6KBlock>(blocks, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "not a block format");
        }
    }

    public static void CheckShape(WeightFormat format, int rows, int cols)
    {
        int block = BlockWeights(format);
        if (cols % block != 0)
            throw new ArgumentException($"{Name(format)} needs rows whose length is a multiple of {block}; this matrix is ({rows}, {cols})");
    }

    public static string Name(WeightFormat format) => format.ToString();

    private static byte[] Quantize<TB>(ReadOnlySpan<float> x, int cols) where TB : IBlockFormat
    {
        int blocks = x.Length / TB.BlockWeights;
        var bytes = new byte[(long)blocks * TB.BlockBytes];
        for (int b = 0; b < blocks; b++)
            TB.Quantize(x.Slice(b * TB.BlockWeights, TB.BlockWeights), bytes.AsSpan(b * TB.BlockBytes, TB.BlockBytes));
        return bytes;
    }

    private static void Dequantize<TB>(ReadOnlySpan<byte> blocks, Span<float> y) where TB : IBlockFormat
    {
        int count = blocks.Length / TB.BlockBytes;
        for (int b = 0; b < count; b++)
            TB.Dequantize(blocks.Slice(b * TB.BlockBytes, TB.BlockBytes), y.Slice(b * TB.BlockWeights, TB.BlockWeights));
    }

    /// <summary>The value of largest magnitude, sign kept (the first of equals; 0 for none), as ggml's Q4_0/Q5_0 quantizers take it.</summary>
    public static float SignedExtreme(ReadOnlySpan<float> x)
    {
        float amax = 0f, extreme = 0f;
        foreach (float v in x)
            if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); extreme = v; }
        return extreme;
    }

    public static float ReadHalf(ReadOnlySpan<byte> bytes, int at) => HalfToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]));

    /// <summary>
    /// f16 bits -> f32, exactly (every f16 is an f32). Inline arithmetic instead of System.Half's
    /// conversion, a call in the kernels' innermost loop: the magnitude's bits shifted into f32
    /// position and scaled by 2^112 rebias the exponent (subnormals included); all-ones
    /// exponents (inf, NaN) are set directly.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort half)
    {
        uint magnitude = (uint)(half & 0x7FFF) << 13;
        uint bits = magnitude >= 0x7C00u << 13
            ? magnitude | 0x7F800000
            : BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(magnitude) * 5.192296858534828e33f);
        return BitConverter.UInt32BitsToSingle(bits | (uint)(half & 0x8000) << 16);
    }

    // Round to nearest even, as ggml's GGML_FP32_TO_FP16.
    public static void WriteHalf(Span<byte> bytes, int at, float value) => BinaryPrimitives.WriteHalfLittleEndian(bytes[at..], (Half)value);

    /// <summary>
    /// ggml's nearest_int: adding 1.5 * 2^23 leaves the integer part in the low mantissa bits,
    /// rounded half to even by the FPU. Valid for |x| below 2^22, as ggml asserts.
    /// </summary>
    public static int NearestInt(float x)
    {
        float shifted = x + 12582912f;
        return (BitConverter.SingleToInt32Bits(shifted) & 0x007fffff) - 0x00400000;
    }
}
