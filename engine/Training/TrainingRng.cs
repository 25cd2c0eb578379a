namespace DistillSpec.Training;

/// <summary>
/// xoshiro256** seeded through SplitMix64. The whole state is four ulongs, so a checkpoint can
/// store it and a resumed run draws exactly the numbers the uninterrupted run would have drawn
/// (System.Random's state cannot be saved).
/// </summary>
public sealed class TrainingRng
{
    private ulong _s0, _s1, _s2, _s3;

    public TrainingRng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3];
        set
        {
            if (value.Length != 4 || value.All(s => s == 0)) throw new ArgumentException("an RNG state is four ulongs, not all zero", nameof(value));
            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
        }
    }

    public static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9, t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n); the modulo bias is below 2^-32 for any int n.</summary>
    public int NextInt(int n) => n > 0 ? (int)((NextULong() >> 1) % (ulong)n) : throw new ArgumentOutOfRangeException(nameof(n));

    /// <summary>Standard normal by Box-Muller; the second value is dropped so the state stays four ulongs.</summary>
    public float NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
