using ILGPU;
using ILGPU.Algorithms;

namespace DistillSpec.Kernels;

/// <summary>The scalars of one verification: shapes and the sampling transform.</summary>
internal struct VerifyParameters
{
    public int Vocab, Gamma, TopK;
    /// <summary>1 under greedy decoding: q is the one-hot at each drafted id and was not uploaded.</summary>
    public int OneHotQ;
    /// <summary>Bits that hold vocab - 1: the low part of a top-k/top-p sort key.</summary>
    public int IndexBits;
    /// <summary>A Speculative.LenienceFunction, as its int.</summary>
    public int LenienceFunction;
    public float Temperature, TopP, Lenience;
}

/// <summary>
/// Speculative verification in one launch of one group: for each position p = Sampler.Distribution
/// of the target's logits, then Verifier.Verify's rule (accept while u &lt; min(1, f(p, eps)/q); at the
/// first rejection draw from the residual, after a clean sweep draw the bonus from the last row).
/// One group (the backend's GroupSize: 256 on a GPU) because the positions are sequential: each row
/// is needed only if every earlier draft was accepted, and rows stop at the first rejection. Cost
/// per row: a few group reductions, plus 30 + log2(vocab) more for each of top-k and top-p that is on.
/// </summary>
/// <remarks>
/// Thread t owns the contiguous slice [t c, (t+1) c) of every row (c = ceil(vocab / group)): the
/// contiguous layout is what the inverse-CDF draw needs (chunk sums, a scan over threads, then each
/// thread walks its own slice), and owning the same slice throughout means p, kept in global
/// scratch, is only ever read back by the thread that wrote it. Everything shared between
/// threads goes through shared-memory reductions, so no cross-thread global-memory ordering is
/// assumed on any backend.
///
/// Top-k and top-p need no sort. With key(t) = (bits of p_t, vocab-1-t), keys order tokens as the
/// Sampler's sort does (probability down, then id up), and top-k keeps {key &gt;= X_k} for the
/// largest X_k with count(key &gt;= X_k) &gt;= k. Top-p then keeps {key &gt;= X} for the largest X
/// with mass(key &gt;= X) &gt;= top-p * mass(key &gt;= X_k): the nucleus of the distribution top-k
/// left, renormalised, as Hugging Face applies them; X &gt;= X_k since X_k itself holds that mass.
/// Each X is built bit by bit from the top: 30 bits of p (p &lt;= 1) plus the index bits, one pass
/// over the row and one reduction each.
///
/// Where rounding differs from the host: exp, and the order of sums (softmax total, top-p mass,
/// residual mass, CDF). Decisions agree except when a uniform, a top-p cut or two probabilities sit
/// within those last bits of each other. Uniforms, ratios and the CDF are doubles as on the host,
/// so the device needs fp64 (CUDA has it; OpenCL devices without it cannot load this kernel).
/// Dynamic shared memory: 2 * group doubles.
/// </remarks>
internal static class FusedVerifyKernel
{
    /// <summary>result: accepted count, next token, then beta = sum min(p, q) per tested position.</summary>
    public const int ResultHeader = 2;


    private const int Sum = 0, MinMax = 1, ArgMax = 2;

    /// <param name="logits">(gamma+1, vocab)</param>
    /// <param name="q">(gamma, vocab)</param>
    /// <param name="inputs">gamma+1 uniforms, then the gamma drafted ids</param>
    /// <param name="p">(vocab) scratch: the current row's distribution, then its residual</param>
    /// <param name="result">(ResultHeader + gamma)</param>
    public static void Verify(ArrayView<float> logits, ArrayView<float> q, ArrayView<double> inputs, ArrayView<float> p,
        ArrayView<double> result, VerifyParameters s)
    {
        var shared = SharedMemory.GetDynamic<double>();
        int v = s.Vocab, t = Group.IdxX;
        int chunk = (v + Group.DimX - 1) / Group.DimX;
        int begin = XMath.Min(t * chunk, v), end = XMath.Min(begin + chunk, v);
        double u = inputs[s.Gamma];

        for (int i = 0; i <= s.Gamma; i++)
        {
            int row = i * v;
            if (!Distribution(logits, row, p, begin, end, s, shared))
            {
                if (t == 0) { result[0] = i; result[1] = Speculative.IDeviceVerifier.NonFiniteLogits; }
                return;
            }
            if (i == s.Gamma)
            {
                int bonus = Draw(p, begin, end, u, v, shared);
                if (t == 0) { result[0] = i; result[1] = bonus; }
                return;
            }

            int y = (int)inputs[s.Gamma + 1 + i];
            double overlap = 0, py = 0;
            for (int j = begin; j < end; j++)
            {
                overlap += XMath.Min(p[j], QAt(q, row, j, y, s));
                if (j == y) py = p[j];
            }
            var tested = Reduce(shared, new Pair(overlap, py), Sum);
            if (t == 0) result[ResultHeader + i] = tested.A;
            if (inputs[i] < Acceptance((float)tested.B, QAt(q, row, y, y, s), s)) continue;

            // residual = max(0, p - q) / z, or p itself when z = 0 (as Verifier.Residual)
            double z = 0;
            for (int j = begin; j < end; j++) z += XMath.Max(0f, p[j] - QAt(q, row, j, y, s));
            z = Reduce(shared, new Pair(z, 0), Sum).A;
            if (z > 0)
                for (int j = begin; j < end; j++) p[j] = (float)(XMath.Max(0f, p[j] - QAt(q, row, j, y, s)) / z);
            int next = Draw(p, begin, end, u, v, shared);
            if (t == 0) { result[0] = i; result[1] = next; }
            return;
        }
    }

    // q[row + j] of the draft's distribution at drafted id y.
    private static float QAt(ArrayView<float> q, int row, int j, int y, VerifyParameters s) =>
        s.OneHotQ != 0 ? (j == y ? 1f : 0f) : q[row + j];

    // min(1, f(p, eps) / q) in double, as Verifier.AcceptanceProbability and Verifier.Lenient.
    private static double Acceptance(float p, float q, VerifyParameters s) =>
        q > 0f ? XMath.Min(1.0, Lenient(p, s) / q) : p > 0f ? 1.0 : 0.0;

    private static double Lenient(float p, VerifyParameters s) =>
        s.LenienceFunction == (int)Speculative.LenienceFunction.Squared ? p / ((double)s.Lenience * s.Lenience)
        : s.LenienceFunction == (int)Speculative.LenienceFunction.Exponential ? XMath.Pow((double)p, s.Lenience)
        : p / (double)s.Lenience;

    // p[begin, end) = this thread's slice of Sampler.Distribution(logits[row .. row + vocab)); false,
    // with p unset, when the row holds a NaN or an infinity (argmax of NaNs is arbitrary, and
    // device min/max skip NaNs, so neither greedy nor sampled p would show it).
    private static bool Distribution(ArrayView<float> logits, int row, ArrayView<float> p, int begin, int end,
        VerifyParameters s, ArrayView<double> shared)
    {
        double nonFinite = 0;
        for (int j = begin; j < end; j++)
            if (!XMath.IsFinite(logits[row + j])) nonFinite++;
        if (Reduce(shared, new Pair(nonFinite, 0), Sum).A > 0) return false;

        if (s.Temperature <= 0f)
        {
            var best = new Pair(double.NegativeInfinity, s.Vocab);
            for (int j = begin; j < end; j++)
                if (logits[row + j] > best.A || best.B == s.Vocab) best = new Pair(logits[row + j], j);
            int argmax = (int)Reduce(shared, best, ArgMax).B;
            for (int j = begin; j < end; j++) p[j] = j == argmax ? 1f : 0f;
            return true;
        }

        float max = float.NegativeInfinity;
        for (int j = begin; j < end; j++) max = XMath.Max(max, logits[row + j] / s.Temperature);
        max = (float)Reduce(shared, new Pair(0, max), MinMax).B;
        double total = 0;
        for (int j = begin; j < end; j++)
        {
            float e = XMath.Exp(logits[row + j] / s.Temperature - max);
            p[j] = e;
            total += e;
        }
        float sum = (float)Reduce(shared, new Pair(total, 0), Sum).A;
        for (int j = begin; j < end; j++) p[j] /= sum;

        if (s.TopK > 0 && s.TopK < s.Vocab || s.TopP < 1f) Truncate(p, begin, end, s, shared);
        return true;
    }

    // Keeps the tokens at or above the cut key X (see the remarks), renormalised as Sampler.Truncate:
    // top-k first, then top-p of the mass top-k kept (Hugging Face renormalises between the two).
    private static void Truncate(ArrayView<float> p, int begin, int end, VerifyParameters s, ArrayView<double> shared)
    {
        double positive = 0;
        for (int j = begin; j < end; j++)
            if (p[j] > 0f) positive++;
        positive = Reduce(shared, new Pair(positive, 0), Sum).A;

        ulong cut = 0;
        if (s.TopK > 0 && s.TopK < positive) cut = LargestCut(p, begin, end, s, shared, s.TopK, double.PositiveInfinity);
        double kept = Mass(p, begin, end, s, shared, cut);
        // Top-k's set holds mass kept >= top-p * kept, so this cut is at or above top-k's.
        if (s.TopP < 1f)
        {
            cut = LargestCut(p, begin, end, s, shared, double.PositiveInfinity, s.TopP * kept);
            kept = Mass(p, begin, end, s, shared, cut);
        }
        for (int j = begin; j < end; j++)
            p[j] = p[j] > 0f && Key(p[j], j, s) >= cut ? (float)(p[j] / kept) : 0f;
    }

    // The largest key X with count(key >= X) >= count or mass(key >= X) >= mass, built bit by bit
    // from the top (both are monotone in X, so their "or" is too).
    private static ulong LargestCut(ArrayView<float> p, int begin, int end, VerifyParameters s, ArrayView<double> shared, double count, double mass)
    {
        ulong cut = 0;
        for (int bit = 29 + s.IndexBits; bit >= 0; bit--)
        {
            ulong candidate = cut | 1UL << bit;
            double above = 0, held = 0;
            for (int j = begin; j < end; j++)
                if (p[j] > 0f && Key(p[j], j, s) >= candidate) { above++; held += p[j]; }
            var sums = Reduce(shared, new Pair(above, held), Sum);
            if (sums.A >= count || sums.B >= mass) cut = candidate;
        }
        return cut;
    }

    // The mass of the positive tokens with key >= cut.
    private static double Mass(ArrayView<float> p, int begin, int end, VerifyParameters s, ArrayView<double> shared, ulong cut)
    {
        double mass = 0;
        for (int j = begin; j < end; j++)
            if (p[j] > 0f && Key(p[j], j, s) >= cut) mass += p[j];
        return Reduce(shared, new Pair(mass, 0), Sum).A;
    }

    private static ulong Key(float p, int j, VerifyParameters s) =>
        (ulong)Interop.FloatAsInt(p) << s.IndexBits | (ulong)(uint)(s.Vocab - 1 - j);

    // Sampler.Draw over the group: the first token whose cumulative mass exceeds u * total,
    // skipping zeros, or the last positive token when rounding leaves the target past the end.
    private static int Draw(ArrayView<float> p, int begin, int end, double u, int vocab, ArrayView<double> shared)
    {
        int g = Group.DimX, t = Group.IdxX;
        double mine = 0;
        for (int j = begin; j < end; j++) mine += p[j];
        shared[t] = mine;
        Group.Barrier();
        if (t == 0)
        {
            double running = 0;
            for (int k = 0; k < g; k++)
            {
                double chunk = shared[k];
                shared[k] = running;
                running += chunk;
            }
            shared[g] = running;
        }
        Group.Barrier();
        double cumulative = shared[t], target = u * shared[g];
        Group.Barrier();

        double first = vocab, last = -1;
        for (int j = begin; j < end; j++)
        {
            if (p[j] <= 0f) continue;
            cumulative += p[j];
            last = j;
            if (cumulative > target) { first = j; break; }
        }
        var found = Reduce(shared, new Pair(first, last), MinMax);
        return found.A < vocab ? (int)found.A : (int)found.B;
    }

    // Combines one pair per thread over the group with a shared-memory tree; every thread gets the
    // result. Sum adds both; MinMax takes min of A and max of B; ArgMax keeps (value, index) with the
    // larger value, the lower index on ties (as TensorPrimitives.IndexOfMax).
    private static Pair Reduce(ArrayView<double> shared, Pair value, int op)
    {
        int g = Group.DimX, t = Group.IdxX;
        shared[t] = value.A;
        shared[g + t] = value.B;
        Group.Barrier();
        for (int stride = g / 2; stride > 0; stride >>= 1)
        {
            if (t < stride)
            {
                double a = shared[t], b = shared[g + t], otherA = shared[t + stride], otherB = shared[g + t + stride];
                if (op == Sum)
                {
                    shared[t] = a + otherA;
                    shared[g + t] = b + otherB;
                }
                else if (op == MinMax)
                {
                    shared[t] = XMath.Min(a, otherA);
                    shared[g + t] = XMath.Max(b, otherB);
                }
                else if (otherA > a || otherA == a && otherB < b)
                {
                    shared[t] = otherA;
                    shared[g + t] = otherB;
                }
            }
            Group.Barrier();
        }
        var result = new Pair(shared[0], shared[g]);
        // shared is reused by the next reduction.
        Group.Barrier();
        return result;
    }

    private readonly struct Pair(double a, double b)
    {
        public readonly double A = a, B = b;
    }
}
