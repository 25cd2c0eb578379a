using System.Runtime.Intrinsics;
using DistillSpec.Numerics;
using DistillSpec.Sampling;

namespace DistillSpec.Speculative;

/// <summary>One verified block: drafts accepted (0..gamma) and the token the target adds after them.</summary>
public readonly record struct Verdict(int Accepted, int Next);

/// <summary>
/// The accept/reject rule of speculative sampling on plain spans. Every random number comes in as
/// an argument, so a GPU kernel given the same distributions and uniforms reaches the same verdict.
/// </summary>
public static class Verifier
{
    /// <summary>
    /// p is (gamma+1, vocab): the target at each drafted position plus the one after the last draft.
    /// q is (gamma, vocab): the draft's distributions the drafted tokens (gamma) were drawn from.
    /// uniforms (gamma+1) lie in [0, 1): uniforms[i] tests draft i, uniforms[gamma] draws the
    /// replacement (residual) or the bonus token (p row gamma). lenience and function set the test
    /// (<see cref="AcceptanceProbability"/>); residual (vocab) is scratch.
    /// </summary>
    public static Verdict Verify(ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<int> drafted,
        ReadOnlySpan<double> uniforms, float lenience, LenienceFunction function, Span<float> residual)
    {
        int gamma = drafted.Length, v = residual.Length;
        if (p.Length != (gamma + 1) * v || q.Length != gamma * v || uniforms.Length != gamma + 1)
            throw new ArgumentException($"for gamma {gamma} and vocab {v} expected p ({gamma + 1} x {v}), q ({gamma} x {v}) and {gamma + 1} uniforms, " +
                                        $"got {p.Length}, {q.Length} and {uniforms.Length} values");
        for (int i = 0; i < gamma; i++)
        {
            var pi = p.Slice(i * v, v);
            var qi = q.Slice(i * v, v);
            int y = drafted[i];
            // u is in [0, 1), so u < ratio accepts with probability exactly ratio and never accepts
            // a token the target gives no mass.
            if (uniforms[i] < AcceptanceProbability(pi[y], qi[y], lenience, function)) continue;
            Residual(pi, qi, residual);
            return new Verdict(i, Sampler.Draw(residual, uniforms[gamma]));
        }
        return new Verdict(gamma, Sampler.Draw(p.Slice(gamma * v, v), uniforms[gamma]));
    }

    /// <summary>
    /// min(1, f(p(y), eps) / q(y)) for the lenience function f; every f at eps = 1 gives the
    /// lossless min(1, p(y) / q(y)), and none accepts a token the target gives no mass.
    /// </summary>
    public static double AcceptanceProbability(float p, float q, float lenience, LenienceFunction function) =>
        q > 0f ? Math.Min(1.0, Lenient(p, lenience, function) / q) : p > 0f ? 1.0 : 0.0;

    /// <summary>f(p, eps): p / eps, p / eps^2 or p^eps.</summary>
    internal static double Lenient(float p, float lenience, LenienceFunction function) => function switch
    {
        LenienceFunction.Linear => p / (double)lenience,
        LenienceFunction.Squared => p / ((double)lenience * lenience),
        LenienceFunction.Exponential => Math.Pow(p, lenience),
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "not a lenience function"),
    };

    /// <summary>
    /// residual = max(0, p - q) / Z, the replacement's distribution under every lenience function
    /// (DistillSpec keeps the lossless residual; lenience only changes how often it is used). A
    /// rejection needs f(p(y)) &lt; q(y), so p(y) &lt; q(y) and Z &gt; 0. When p &lt;= q everywhere
    /// (possible only by rounding, as both sum to 1) there is nothing to renormalise and residual = p.
    /// </summary>
    public static void Residual(ReadOnlySpan<float> p, ReadOnlySpan<float> q, Span<float> residual)
    {
        // Element by element as a scalar loop: max(0, p - q) in f32, summed in double in index
        // order; blocks of zeros (truncated p and q) add nothing to z and divide to zero.
        int block = Vector256<float>.Count, full = residual.Length - residual.Length % block;
        var zero = Vector256<float>.Zero;
        double z = 0;
        for (int b = 0; b < full; b += block)
        {
            var r = Vector256.Max(zero, Vector256.Create(p.Slice(b, block)) - Vector256.Create(q.Slice(b, block)));
            r.CopyTo(residual.Slice(b, block));
            if (Vector256.EqualsAll(r, zero)) continue;
            for (int t = b; t < b + block; t++) z += residual[t];
        }
        for (int t = full; t < residual.Length; t++)
        {
            float r = Math.Max(0f, p[t] - q[t]);
            residual[t] = r;
            z += r;
        }
        if (z <= 0) { p.CopyTo(residual); return; }
        for (int b = SparseScan.NextNonZeroBlock(residual, 0); b < residual.Length; b = SparseScan.NextNonZeroBlock(residual, b + block))
            for (int t = b, end = Math.Min(b + block, residual.Length); t < end; t++) residual[t] = (float)(residual[t] / z);
    }

    /// <summary>beta = sum_y min(p(y), q(y)) = 1 - TVD(p, q): the chance a lossless test accepts a draft from q.</summary>
    public static double Overlap(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        // Only blocks where both distributions have mass add to the sum (in index order, as a full scan).
        int block = Vector256<float>.Count;
        double sum = 0;
        for (int b = SparseScan.NextOverlappingBlock(p, q, 0); b < p.Length; b = SparseScan.NextOverlappingBlock(p, q, b + block))
            for (int t = b, end = Math.Min(b + block, p.Length); t < end; t++) sum += Math.Min(p[t], q[t]);
        return sum;
    }
}
