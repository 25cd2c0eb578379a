namespace DistillSpec.Bench;

/// <summary>The benchmarks' central value of repeated timings: robust to the bursts of a shared machine.</summary>
internal static class Median
{
    /// <summary>The middle value, or the mean of the two middle ones.</summary>
    public static double Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
