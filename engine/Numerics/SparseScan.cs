using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DistillSpec.Numerics;

/// <summary>
/// Vectorised skipping over the zeros of a distribution that top-k / top-p truncated to a few
/// dozen tokens of thousands: the scalar loops that sum or draw from it then visit only the
/// blocks holding a nonzero value, in index order, so their double sums are the same values in
/// the same order as a scan of every element (adding 0.0 changes no sum).
/// </summary>
internal static class SparseScan
{
    /// <summary>The start of the first block of Vector256&lt;float&gt;.Count values at or after `from` (a block start) that holds a nonzero, or values.Length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextNonZeroBlock(ReadOnlySpan<float> values, int from)
    {
        int n = Vector256<float>.Count, full = values.Length - values.Length % n;
        ref float start = ref MemoryMarshal.GetReference(values);
        for (int i = from; i < full; i += n)
            if (!Vector256.EqualsAll(Vector256.LoadUnsafe(ref start, (nuint)i), Vector256<float>.Zero)) return i;
        return Tail(from, full, values.Length);
    }

    /// <summary>The start of the first block at or after `from` in which min(a, b) holds a nonzero (a and b nonnegative), or a.Length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextOverlappingBlock(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int from)
    {
        int n = Vector256<float>.Count, full = a.Length - a.Length % n;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        for (int i = from; i < full; i += n)
        {
            var m = Vector256.Min(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i));
            if (!Vector256.EqualsAll(m, Vector256<float>.Zero)) return i;
        }
        return Tail(from, full, a.Length);
    }

    // Past the whole blocks: the short last block (scanned element by element), unless it is passed too.
    private static int Tail(int from, int full, int length) => Math.Max(from, full) < length ? Math.Max(from, full) : length;

    /// <summary>
    /// Writes to indices, in increasing order, every i with values[i] &gt;= threshold (never a NaN's)
    /// and returns how many; a block with none is passed over in one comparison.
    /// </summary>
    public static int Gather(ReadOnlySpan<float> values, float threshold, Span<int> indices)
    {
        int n = Vector256<float>.Count, full = values.Length - values.Length % n, count = 0;
        ref float start = ref MemoryMarshal.GetReference(values);
        var t = Vector256.Create(threshold);
        for (int b = 0; b < full; b += n)
            for (uint mask = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref start, (nuint)b), t).ExtractMostSignificantBits(); mask != 0; mask &= mask - 1)
                indices[count++] = b + BitOperations.TrailingZeroCount(mask);
        for (int i = full; i < values.Length; i++)
            if (values[i] >= threshold) indices[count++] = i;
        return count;
    }

    /// <summary>How many of values are at least threshold.</summary>
    public static int CountAtLeast(ReadOnlySpan<float> values, float threshold)
    {
        int n = Vector256<float>.Count, full = values.Length - values.Length % n, count = 0;
        ref float start = ref MemoryMarshal.GetReference(values);
        var t = Vector256.Create(threshold);
        for (int i = 0; i < full; i += n)
            count += BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref start, (nuint)i), t).ExtractMostSignificantBits());
        for (int i = full; i < values.Length; i++)
            if (values[i] >= threshold) count++;
        return count;
    }
}
