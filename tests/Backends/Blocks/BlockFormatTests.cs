using DistillSpec.Backends;
using Xunit.Abstractions;

namespace DistillSpec.Tests.Backends.Blocks;

/// <summary>
/// The block formats against llama.cpp's own code (fixtures from tools/quant-fixtures, made by
/// libggml-base's ggml_quantize_chunk and to_float): dequantisation bit for bit, on quantizer
/// output and on random bytes; quantisation byte for byte.
/// </summary>
public class BlockFormatTests(ITestOutputHelper output)
{
    public static TheoryData<WeightFormat> Formats =>
        [WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.Q5_0, WeightFormat.Q5_1, WeightFormat.Q4_K, WeightFormat.Q5_K, WeightFormat.Q6_K];

    [Theory, MemberData(nameof(Formats))]
    public void DequantisationIsBitExactWithLlamaCpp(WeightFormat format)
    {
        var f = QuantFixture.Load(format);
        AssertSameBits(f.RoundTrip, Dequantize(format, f.Quantized, f.Rows * f.Cols));
        AssertSameBits(f.RandomValues, Dequantize(format, f.RandomBlocks, f.Rows * f.Cols));
    }

    [Theory, MemberData(nameof(Formats))]
    public void QuantisationMatchesLlamaCppByteForByte(WeightFormat format)
    {
        var f = QuantFixture.Load(format);
        byte[] ours = BlockFormats.Quantize(format, f.Source, f.Cols);
        int same = ours.Zip(f.Quantized).Count(p => p.First == p.Second);
        output.WriteLine($"{format}: {same} of {ours.Length} bytes as llama.cpp's");
        Assert.Equal(f.Quantized, ours);
    }

    [Theory, MemberData(nameof(Formats))]
    public void BlockTensorRowsAreTheRowsOfTheMatrix(WeightFormat format)
    {
        var f = QuantFixture.Load(format);
        var tensor = new BlockTensor(format, f.Rows, f.Cols, f.Quantized);
        var row = new float[f.Cols];
        for (int r = 0; r < f.Rows; r++)
        {
            tensor.DequantizeRow(r, row);
            AssertSameBits(f.RoundTrip.AsSpan(r * f.Cols, f.Cols).ToArray(), row);
        }
        Assert.Contains("takes", Assert.Throws<ArgumentException>(() => new BlockTensor(format, f.Rows, f.Cols, new byte[3])).Message);
        Assert.Contains("multiple of", Assert.Throws<ArgumentException>(() => BlockTensor.Quantize(new float[40], 1, 40, format)).Message);
    }

    [Fact]
    public void HalfToSingleIsExactForEveryBitPattern()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits), actual = BlockFormats.HalfToSingle((ushort)bits);
            Assert.True(float.IsNaN(expected) ? float.IsNaN(actual) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"f16 0x{bits:X4}: {expected:R} expected, got {actual:R}");
        }
    }

    private static float[] Dequantize(WeightFormat format, byte[] blocks, int count)
    {
        var y = new float[count];
        BlockFormats.Dequantize(format, blocks, y);
        return y;
    }

    private static void AssertSameBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: llama.cpp {expected[i]:R}, ours {actual[i]:R}");
    }
}
