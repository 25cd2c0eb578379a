using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Backends;

/// <summary>ggml's Q8_0: 32 weights as an f16 scale d then 32 int8 quants; w = d * q. 34 bytes.</summary>
internal unsafe struct Q8_0Block : IBlock32
{
    public static WeightFormat Format => WeightFormat.Q8_0;
    public static int BlockWeights => 32;
    public static int BlockBytes => 34;

    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0f;
        foreach (float v in x) amax = MathF.Max(amax, MathF.Abs(v));
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        BlockFormats.WriteHalf(block, 0, d);
        // roundf: halves away from zero; |x * id| <= 127 so the cast cannot wrap.
        for (int j = 0; j < 32; j++) block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BlockFormats.ReadHalf(block, 0);
        for (int j = 0; j < 32; j++) y[j] = (sbyte)block[2 + j] * d;
    }

    public static float Scale(byte* block) => BlockFormats.HalfToSingle(*(ushort*)block);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Weights(byte* block) => Vector256.Load((sbyte*)(block + 2));

    public static int Weight(byte* block, int i) => (sbyte)block[2 + i];
}
