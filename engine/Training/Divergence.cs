using System.Globalization;

namespace DistillSpec.Training;

public enum DivergenceKind { ForwardKl, ReverseKl, JensenShannon, TotalVariation }

/// <summary>
/// A distillation divergence D(p || q) per position over the vocabulary, p = teacher (target),
/// q = student (draft), both softmax(logits / temperature). Gradients are wrt the student's
/// logits; sums run in double because p log p terms cancel to ~1e-7 near p = q.
/// </summary>
public sealed record Divergence(DivergenceKind Kind, double Beta = 0.5)
{
    /// <summary>fkl | rkl | jsd[:BETA] (BETA in (0, 1), default 0.5) | tvd</summary>
    public static Divergence Parse(string spec)
    {
        string s = spec.Trim().ToLowerInvariant();
        if (s.StartsWith("jsd", StringComparison.Ordinal))
        {
            double beta = 0.5;
            if (s.Length > 3 && (s[3] != ':' || !double.TryParse(s[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out beta)))
                throw new FormatException($"divergence '{spec}': write jsd or jsd:BETA, e.g. jsd:0.5");
            if (!(beta > 0 && beta < 1)) throw new FormatException($"divergence '{spec}': JSD's beta must lie in (0, 1)");
            return new Divergence(DivergenceKind.JensenShannon, beta);
        }
        return s switch
        {
            "fkl" => new Divergence(DivergenceKind.ForwardKl),
            "rkl" => new Divergence(DivergenceKind.ReverseKl),
            "tvd" => new Divergence(DivergenceKind.TotalVariation),
            _ => throw new FormatException($"unknown divergence '{spec}'; use fkl, rkl, jsd:BETA or tvd"),
        };
    }

    public override string ToString() => Kind switch
    {
        DivergenceKind.ForwardKl => "fkl",
        DivergenceKind.ReverseKl => "rkl",
        DivergenceKind.JensenShannon => string.Create(CultureInfo.InvariantCulture, $"jsd:{Beta}"),
        _ => "tvd",
    };

    /// <summary>
    /// D for one position, and when dStudent is not empty, dStudent (vocab) = scale * dD/d(student logits).
    /// work holds 3 * vocab doubles.
    /// </summary>
    public double Compute(ReadOnlySpan<float> teacher, ReadOnlySpan<float> student, float temperature,
        Span<float> dStudent, float scale, Span<double> work)
    {
        int v = teacher.Length;
        var logP = work[..v];
        var logQ = work.Slice(v, v);
        var g = work.Slice(2 * v, v);
        Numerics.Softmax.Log(teacher, temperature, logP);
        Numerics.Softmax.Log(student, temperature, logQ);
        double value = 0;
        // g = dD/dq for every divergence below but FKL, whose logit gradient is simply q - p.
        switch (Kind)
        {
            case DivergenceKind.ForwardKl:
                for (int i = 0; i < v; i++)
                {
                    double p = Math.Exp(logP[i]);
                    if (p > 0) value += p * (logP[i] - logQ[i]);
                    g[i] = Math.Exp(logQ[i]) - p;
                }
                break;
            case DivergenceKind.ReverseKl:
                for (int i = 0; i < v; i++)
                {
                    double q = Math.Exp(logQ[i]);
                    g[i] = logQ[i] - logP[i];
                    if (q > 0) value += q * g[i];
                }
                break;
            case DivergenceKind.JensenShannon:
                // JSD[b] = b KL(p||m) + (1-b) KL(q||m), m = b p + (1-b) q; dJSD/dq_i = (1-b) log(q_i / m_i).
                double b = Beta;
                for (int i = 0; i < v; i++)
                {
                    double p = Math.Exp(logP[i]), q = Math.Exp(logQ[i]), m = b * p + (1 - b) * q;
                    if (m <= 0) { g[i] = 0; continue; }
                    double logM = Math.Log(m);
                    if (p > 0) value += b * p * (logP[i] - logM);
                    if (q > 0) value += (1 - b) * q * (logQ[i] - logM);
                    g[i] = q > 0 ? (1 - b) * (logQ[i] - logM) : 0;
                }
                break;
            default:
                // TVD = 1/2 sum |p - q|; subgradient 1/2 sign(q - p), 0 where they tie.
                for (int i = 0; i < v; i++)
                {
                    double diff = Math.Exp(logQ[i]) - Math.Exp(logP[i]);
                    value += 0.5 * Math.Abs(diff);
                    g[i] = 0.5 * Math.Sign(diff);
                }
                break;
        }
        if (dStudent.IsEmpty) return value;

        // Through q = softmax(z / T): dz_j = q_j (g_j - sum_i q_i g_i) / T. FKL's g is already dz * T.
        double factor = scale / temperature;
        if (Kind == DivergenceKind.ForwardKl)
        {
            for (int j = 0; j < v; j++) dStudent[j] = (float)(g[j] * factor);
            return value;
        }
        double mean = 0;
        for (int i = 0; i < v; i++) mean += Math.Exp(logQ[i]) * g[i];
        for (int j = 0; j < v; j++) dStudent[j] = (float)(Math.Exp(logQ[j]) * (g[j] - mean) * factor);
        return value;
    }

    /// <summary>
    /// Mean D over the rows (of logits (rows, vocab)) where mask is true; dStudent (rows, vocab), when
    /// given, receives the gradient of that mean (zero on masked-out rows).
    /// </summary>
    public double Mean(float[] teacherLogits, float[] studentLogits, ReadOnlySpan<bool> mask, int vocab, float temperature,
        float[]? dStudent, int threads)
    {
        int rows = mask.Length, count = 0;
        foreach (bool m in mask) if (m) count++;
        if (count == 0) throw new ArgumentException("no positions to score", nameof(mask));
        bool[] used = mask.ToArray();
        var values = new double[rows];
        float scale = 1f / count;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => new double[3 * vocab],
            (r, _, work) =>
            {
                var d = dStudent is null ? Span<float>.Empty : dStudent.AsSpan(r * vocab, vocab);
                if (!used[r]) { d.Clear(); return work; }
                values[r] = Compute(teacherLogits.AsSpan(r * vocab, vocab), studentLogits.AsSpan(r * vocab, vocab), temperature, d, scale, work);
                return work;
            }, _ => { });
        double sum = 0;
        foreach (double v in values) sum += v;   // in row order, so the mean does not depend on threads
        return sum / count;
    }
}
