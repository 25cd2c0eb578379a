namespace DistillSpec.Tests.Speculative;

/// <summary>
/// Pearson's chi-square goodness-of-fit test of observed counts against exact probabilities, with
/// sparse cells merged, and the chi-square survival function it needs (the regularised upper
/// incomplete gamma function Q(df/2, x/2): series below a + 1, Lentz's continued fraction above).
/// </summary>
internal static class ChiSquare
{
    /// <summary>Cochran's rule: the statistic is chi-square distributed once every cell expects at least 5.</summary>
    public const double MinExpected = 5;

    public readonly record struct Fit(double Statistic, int DegreesOfFreedom, double PValue, int Cells, int ImpossibleSeen)
    {
        public override string ToString() =>
            $"chi2 {Statistic:F1} on {DegreesOfFreedom} df (p = {PValue:G3}), {Cells} cells after merging, {ImpossibleSeen} draws of probability-0 outcomes";
    }

    /// <summary>
    /// exact (K) sums to 1; counts (K) are N draws. Cells expecting fewer than MinExpected are merged,
    /// smallest first, into pooled cells that reach it. An outcome of probability 0 that was drawn
    /// cannot be scored by the statistic, so it is counted apart (and fails any test at once).
    /// </summary>
    public static Fit Test(double[] exact, long[] counts)
    {
        if (exact.Length != counts.Length) throw new ArgumentException($"{exact.Length} probabilities but {counts.Length} counts");
        long n = 0, impossible = 0;
        for (int k = 0; k < counts.Length; k++)
        {
            n += counts[k];
            if (exact[k] <= 0) impossible += counts[k];
        }
        var order = Enumerable.Range(0, exact.Length).Where(k => exact[k] > 0).OrderBy(k => exact[k]).ToList();
        var cells = new List<(double Expected, double Observed)>();
        double expected = 0, observed = 0;
        foreach (int k in order)
        {
            expected += n * exact[k];
            observed += counts[k];
            if (expected < MinExpected) continue;
            cells.Add((expected, observed));
            expected = observed = 0;
        }
        // A remainder below the rule (the largest cells come last, so only when all are sparse) joins the last cell formed.
        if (cells.Count == 0) cells.Add((expected, observed));
        else if (expected > 0) cells[^1] = (cells[^1].Expected + expected, cells[^1].Observed + observed);
        double statistic = cells.Sum(c => (c.Observed - c.Expected) * (c.Observed - c.Expected) / c.Expected);
        int df = cells.Count - 1;
        return new Fit(statistic, df, impossible > 0 ? 0 : Survival(statistic, df), cells.Count, (int)impossible);
    }

    /// <summary>P(X >= x) for X chi-square with df degrees of freedom.</summary>
    public static double Survival(double x, int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "at least one degree of freedom");
        return x <= 0 ? 1 : UpperRegularizedGamma(df / 2.0, x / 2);
    }

    private static double UpperRegularizedGamma(double a, double x)
    {
        double logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            // P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a + 1) ... (a + k))
            double term = 1 / a, sum = term;
            for (int k = 1; k < 10_000 && Math.Abs(term) > Math.Abs(sum) * 1e-16; k++)
                sum += term *= x / (a + k);
            return 1 - Math.Exp(logPrefix) * sum;
        }
        // Q(a, x) = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)), modified Lentz.
        const double Tiny = 1e-300;
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = b + an / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(logPrefix) * h;
    }

    // Lanczos (g = 7, n = 9): about 15 significant digits for a > 0.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    private static double LogGamma(double a)
    {
        if (a < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
        a -= 1;
        double sum = Lanczos[0], t = a + 7.5;
        for (int i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (a + i);
        return 0.5 * Math.Log(2 * Math.PI) + (a + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
