using System.Runtime.InteropServices;
using DistillSpec.Numerics;

namespace DistillSpec.Tests.SafeTensors;

// Lives under the SafeTensors test folder because the checkpoint reader/writer is what these conversions serve.
public class SafeTensorsFloatConversionTests
{
    [Theory]
    [InlineData(1.0f, 0x3F80)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(1.00390625f, 0x3F80)] // 1 + 2^-8: exact tie, rounds down to the even neighbour
    [InlineData(1.01171875f, 0x3F82)] // 1 + 3*2^-8: exact tie, rounds up to the even neighbour
    [InlineData(1.0039064f, 0x3F81)]  // just above the tie rounds up
    [InlineData(float.PositiveInfinity, 0x7F80)]
    [InlineData(float.MaxValue, 0x7F80)] // rounds past the largest finite bf16
    [InlineData(-0.0f, 0x8000)]
    public void SingleToBFloat16_RoundsToNearestEven(float value, int expected)
    {
        Assert.Equal((ushort)expected, FloatConversion.SingleToBFloat16(value));
    }

    [Theory]
    [InlineData(0x7FC00000u)]
    [InlineData(0x7F800001u)] // payload only in the bits that get dropped
    [InlineData(0xFF80FFFFu)]
    public void SingleToBFloat16_KeepsNaN(uint bits)
    {
        float nan = BitConverter.UInt32BitsToSingle(bits);
        Assert.True(float.IsNaN(FloatConversion.BFloat16ToSingle(FloatConversion.SingleToBFloat16(nan))));
    }

    [Fact]
    public void SpanConversions_MatchScalar_ForAllLengthsAroundVectorWidth()
    {
        var rng = new Random(3);
        for (int n = 0; n <= 70; n++)
        {
            var f = new float[n];
            for (int i = 0; i < n; i++)
                f[i] = i % 7 == 6 ? BitConverter.UInt32BitsToSingle((uint)rng.Next() | 0x7F800001u) : (float)(rng.NextDouble() * 200 - 100);

            var bf = new ushort[n];
            FloatConversion.SingleToBFloat16(f, bf);
            var back = new float[n];
            FloatConversion.BFloat16ToSingle(bf, back);
            var half = new Half[n];
            FloatConversion.SingleToHalf(f, half);
            var halfBack = new float[n];
            FloatConversion.HalfToSingle(half, halfBack);

            for (int i = 0; i < n; i++)
            {
                Assert.Equal(FloatConversion.SingleToBFloat16(f[i]), bf[i]);
                Assert.Equal(BitConverter.SingleToUInt32Bits(FloatConversion.BFloat16ToSingle(bf[i])), BitConverter.SingleToUInt32Bits(back[i]));
                ushort h = FloatConversion.SingleToHalf(f[i]);
                Assert.True(h == BitConverter.HalfToUInt16Bits(half[i]) || (Half.IsNaN(half[i]) && float.IsNaN(f[i])));
                Assert.Equal(FloatConversion.HalfToSingle(h), halfBack[i]);
            }
        }
    }

    [Fact]
    public void Half_RoundTripsEveryFiniteBitPattern()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++)
            bits[i] = (ushort)i;
        var f = new float[bits.Length];
        FloatConversion.HalfToSingle(MemoryMarshal.Cast<ushort, Half>(bits), f);
        for (int i = 0; i < bits.Length; i++)
        {
            if (float.IsNaN(f[i]))
                continue;
            Assert.Equal(bits[i], FloatConversion.SingleToHalf(f[i]));
        }
    }

    [Fact]
    public void SpanConversions_RejectLengthMismatch()
    {
        Assert.Throws<ArgumentException>(() => FloatConversion.BFloat16ToSingle(new ushort[3], new float[4]));
        Assert.Throws<ArgumentException>(() => FloatConversion.SingleToHalf(new float[3], new Half[2]));
    }
}
