using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Tests.Sampling;

/// <summary>
/// The vectorised scans that pass over blocks of zeros give exactly what a scan of every element
/// gives: the same truncated distributions, draws, overlaps and residuals, bit for bit, on
/// vocabularies that are and are not whole blocks, dense and truncated.
/// </summary>
public class SparseScanTests
{
    public static TheoryData<int, int, float> Cases => new()
    {
        { 8192, 40, 0.95f }, { 1003, 40, 0.95f }, { 1003, 0, 0.9f }, { 37, 5, 1f }, { 5, 10, 0.5f }, { 4096, 1, 1f }, { 999, 0, 1f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Truncation_matches_a_full_sort_of_the_vocabulary(int vocab, int topK, float topP)
    {
        var rng = new Random(vocab + topK);
        for (int trial = 0; trial < 20; trial++)
        {
            var logits = Logits(rng, vocab, ties: trial % 3 == 0);
            var settings = new SamplingSettings { Temperature = 0.7f, TopK = topK, TopP = topP };
            var p = new float[vocab];
            new Sampler(settings, vocab, 0).Distribution(logits, p);
            Assert.Equal(ReferenceDistribution(logits, settings), p);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Draw_overlap_and_residual_match_full_scans(int vocab, int topK, float topP)
    {
        var rng = new Random(7 * vocab + topK);
        var settings = new SamplingSettings { Temperature = 1f, TopK = topK, TopP = topP };
        var sampler = new Sampler(settings, vocab, 0);
        var p = new float[vocab];
        var q = new float[vocab];
        var residual = new float[vocab];
        for (int trial = 0; trial < 20; trial++)
        {
            sampler.Distribution(Logits(rng, vocab, ties: false), p);
            sampler.Distribution(Logits(rng, vocab, ties: false), q);
            foreach (double u in new[] { 0.0, rng.NextDouble(), rng.NextDouble(), 0.999999 })
                Assert.Equal(ReferenceDraw(p, u), Sampler.Draw(p, u));
            Assert.Equal(q.Zip(p, Math.Min).Aggregate(0.0, (s, x) => s + x), Verifier.Overlap(p, q));
            Verifier.Residual(p, q, residual);
            Assert.Equal(ReferenceResidual(p, q), residual);
        }
    }

    private static float[] Logits(Random rng, int vocab, bool ties)
    {
        var logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = ties ? rng.Next(6) : (float)(rng.NextDouble() * 6 - 3);
        for (int i = 0; i < Math.Min(8, vocab); i++) logits[rng.Next(vocab)] += 6f;
        return logits;
    }

    // Temperature, softmax, then (when either truncation is on) every positive token sorted (probability descending, id ascending), top-k, top-p of what top-k kept.
    private static float[] ReferenceDistribution(float[] logits, SamplingSettings s)
    {
        var p = new float[logits.Length];
        System.Numerics.Tensors.TensorPrimitives.Divide(logits, s.Temperature, p);
        DistillSpec.Numerics.Softmax.Stable(p, p);
        if (!(s.TopK > 0 && s.TopK < p.Length) && s.TopP >= 1f) return p;
        var order = Enumerable.Range(0, p.Length).Where(i => p[i] > 0f).OrderByDescending(i => p[i]).ThenBy(i => i).ToList();
        if (s.TopK > 0 && s.TopK < order.Count) order = order.Take(s.TopK).ToList();
        double mass = order.Aggregate(0.0, (m, i) => m + p[i]), nucleus = s.TopP * mass, cumulative = 0;
        int keep = order.Count;
        if (s.TopP < 1f)
            for (int j = 0; j < order.Count; j++)
                if ((cumulative += p[order[j]]) >= nucleus) { keep = j + 1; break; }
        double kept = order.Take(keep).Aggregate(0.0, (m, i) => m + p[i]);
        var result = new float[p.Length];
        foreach (int i in order.Take(keep)) result[i] = (float)(p[i] / kept);
        return result;
    }

    private static int ReferenceDraw(float[] p, double u)
    {
        double total = 0, cumulative = 0;
        foreach (float x in p) total += x;
        int last = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0f) continue;
            cumulative += p[i];
            last = i;
            if (cumulative > u * total) return i;
        }
        return last;
    }

    private static float[] ReferenceResidual(float[] p, float[] q)
    {
        var r = p.Zip(q, (a, b) => Math.Max(0f, a - b)).ToArray();
        double z = r.Aggregate(0.0, (s, x) => s + x);
        return z <= 0 ? (float[])p.Clone() : r.Select(x => (float)(x / z)).ToArray();
    }
}
