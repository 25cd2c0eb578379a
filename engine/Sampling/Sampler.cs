using System.Numerics.Tensors;

namespace DistillSpec.Sampling;

/// <summary>
/// Turns logits into the distribution actually sampled from and draws tokens from it with a
/// seeded generator. Speculative decoding needs those distributions (p and q), so they are
/// exposed, not hidden inside Sample. Buffers are allocated once per vocabulary size.
/// </summary>
public sealed class Sampler
{
    private readonly ulong[] _sortKeys;
    private readonly int[] _candidates;
    private Random _random;

    public Sampler(SamplingSettings settings, int vocabSize, int seed)
    {
        Settings = settings.Validate();
        VocabSize = vocabSize;
        _sortKeys = new ulong[vocabSize];
        _candidates = new int[vocabSize];
        _random = new Random(seed);
    }

    public SamplingSettings Settings { get; }

    public int VocabSize { get; }

    /// <summary>Restarts the random stream from seed, as a new sampler with that seed would start.</summary>
    public void Reseed(int seed) => _random = new Random(seed);

    /// <summary>A uniform draw in [0, 1) from this sampler's seeded stream.</summary>
    public double NextUniform() => _random.NextDouble();

    /// <summary>probabilities (vocab) = the transformed, renormalised distribution for logits (vocab).</summary>
    public void Distribution(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        if (logits.Length != VocabSize || probabilities.Length != VocabSize)
            throw new ArgumentException($"expected {VocabSize} logits and probabilities, got {logits.Length} and {probabilities.Length}");
        if (Settings.Greedy)
        {
            probabilities.Clear();
            probabilities[TensorPrimitives.IndexOfMax(logits)] = 1f;
            return;
        }
        TensorPrimitives.Divide(logits, Settings.Temperature, probabilities);
        Numerics.Softmax.Stable(probabilities, probabilities);
        if (Settings.TopK > 0 && Settings.TopK < VocabSize || Settings.TopP < 1f) Truncate(probabilities);
    }

    /// <summary>Draws a token from logits; probabilities (vocab) receives the distribution used.</summary>
    public int Sample(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        Distribution(logits, probabilities);
        return Settings.Greedy ? TensorPrimitives.IndexOfMax(probabilities) : Draw(probabilities, NextUniform());
    }

    /// <summary>Inverse-CDF draw: the first token whose cumulative probability exceeds u * total.</summary>
    public static int Draw(ReadOnlySpan<float> probabilities, double u)
    {
        // Blocks of zeros (most of a truncated distribution) add nothing, so they are passed over.
        int block = System.Runtime.Intrinsics.Vector256<float>.Count, length = probabilities.Length;
        double total = 0;
        for (int b = Numerics.SparseScan.NextNonZeroBlock(probabilities, 0); b < length; b = Numerics.SparseScan.NextNonZeroBlock(probabilities, b + block))
            for (int i = b, end = Math.Min(b + block, length); i < end; i++) total += probabilities[i];
        double target = u * total, cumulative = 0;
        int last = -1;
        for (int b = Numerics.SparseScan.NextNonZeroBlock(probabilities, 0); b < length; b = Numerics.SparseScan.NextNonZeroBlock(probabilities, b + block))
            for (int i = b, end = Math.Min(b + block, length); i < end; i++)
            {
                if (probabilities[i] <= 0f) continue;
                cumulative += probabilities[i];
                last = i;
                if (cumulative > target) return i;
            }
        if (last < 0) throw new ArgumentException("cannot sample from an all-zero distribution", nameof(probabilities));
        return last; // rounding left target just past the end
    }

    // Keeps the top-k tokens, then the smallest prefix of them whose mass reaches top-p of the mass
    // top-k kept: Hugging Face renormalises after top-k, so top-p is measured on the distribution
    // top-k left (with logits log[0.4, 0.3, 0.2, 0.1], top-k 2 and top-p 0.5 keep only the first
    // token: 0.4 / 0.7 = 0.57 reaches 0.5 alone). The result is renormalised. Ties in probability
    // go to the lower token id, as greedy's argmax breaks them, so the kept set is defined by the
    // values alone (the fused GPU verifier keeps the same one). Sorting the whole vocabulary cost
    // more than a draft model's forward pass, so only candidates are sorted: the top k, selected in
    // linear time, and of those the ones above a threshold that already holds the top-p mass.
    private void Truncate(Span<float> probabilities)
    {
        // p > 0 is p >= the smallest positive float; with top-k, only tokens at or above a floor that
        // k of them reach can be among the k (the kept set is the same, from a few dozen keys).
        float floor = Settings.TopK > 0 && Settings.TopK < VocabSize ? TopKFloor(probabilities, Settings.TopK) : 0f;
        int n = Numerics.SparseScan.Gather(probabilities, Math.Max(floor, float.Epsilon), _candidates);
        for (int j = 0; j < n; j++) _sortKeys[j] = SortKey(probabilities[_candidates[j]], _candidates[j]);
        var candidates = _sortKeys.AsSpan(0, n);
        if (Settings.TopK > 0 && Settings.TopK < n)
        {
            SelectSmallest(candidates, Settings.TopK);
            candidates = candidates[..Settings.TopK];
        }
        double nucleus = Settings.TopP < 1f ? Settings.TopP * Mass(candidates) : double.PositiveInfinity;
        if (Settings.TopP < 1f) candidates = candidates[..HoldingMass(candidates, nucleus)];
        candidates.Sort();
        int keep = candidates.Length;
        if (Settings.TopP < 1f)
        {
            double cumulative = 0;
            for (int j = 0; j < keep; j++)
            {
                cumulative += Probability(candidates[j]);
                if (cumulative >= nucleus) { keep = j + 1; break; }
            }
        }
        double kept = Mass(candidates[..keep]);
        probabilities.Clear();
        for (int j = 0; j < keep; j++) probabilities[(int)(uint)candidates[j]] = (float)(Probability(candidates[j]) / kept);
    }

    // The maximum, lowered 16-fold until k probabilities reach it; 0 when fewer than k exceed 1e-30.
    private static float TopKFloor(ReadOnlySpan<float> probabilities, int k)
    {
        for (float floor = TensorPrimitives.Max(probabilities); floor > 1e-30f; floor /= 16f)
            if (Numerics.SparseScan.CountAtLeast(probabilities, floor) >= k) return floor;
        return 0f;
    }

    private static double Mass(ReadOnlySpan<ulong> keys)
    {
        double mass = 0;
        foreach (ulong key in keys) mass += Probability(key);
        return mass;
    }

    // Reorders keys so that the k smallest come first, in any order (quickselect).
    private static void SelectSmallest(Span<ulong> keys, int k)
    {
        int lo = 0, hi = keys.Length - 1;
        while (lo < hi)
        {
            ulong pivot = Median(keys[lo], keys[lo + (hi - lo) / 2], keys[hi]);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    private static ulong Median(ulong a, ulong b, ulong c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    // Moves to the front the keys whose probability is at least a threshold t, lowered 16-fold at a
    // time, where those keys first hold mass `mass` (or all of them); returns how many. They are a
    // prefix of the sorted order, so the top-p prefix lies within them.
    private static int HoldingMass(Span<ulong> keys, double mass)
    {
        float threshold = 0f;
        foreach (ulong key in keys) threshold = Math.Max(threshold, Probability(key));
        for (; threshold > 1e-30f; threshold /= 16f)
        {
            double held = 0;
            foreach (ulong key in keys)
                if (Probability(key) >= threshold) held += Probability(key);
            if (held >= mass) break;
        }
        if (threshold <= 1e-30f) return keys.Length;
        int front = 0;
        for (int i = 0; i < keys.Length; i++)
            if (Probability(keys[i]) >= threshold) (keys[front], keys[i]) = (keys[i], keys[front++]);
        return front;
    }

    // Ascending keys = descending probability, then ascending id: a positive float orders as its bits.
    private static ulong SortKey(float p, int id) => (ulong)(uint)(int.MaxValue - BitConverter.SingleToInt32Bits(p)) << 32 | (uint)id;

    private static float Probability(ulong key) => BitConverter.Int32BitsToSingle(int.MaxValue - (int)(key >> 32));
}
