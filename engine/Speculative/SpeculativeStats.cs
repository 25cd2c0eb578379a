using DistillSpec.Generation;

namespace DistillSpec.Speculative;

/// <summary>
/// Counts and timings of speculative runs, with the measures of docs/distillspec.md derived from
/// them. Sums, not means, are stored so that runs over many prompts combine exactly.
/// </summary>
public sealed record SpeculativeStats
{
    public required int GammaMax { get; init; }
    /// <summary>Verification passes of the target: one per round.</summary>
    public required int TargetCalls { get; init; }
    public required int Emitted { get; init; }
    public required int Drafted { get; init; }
    public required int AcceptedDrafts { get; init; }
    /// <summary>Positions where a draft was tested against the target and whose prefix was kept.</summary>
    public required int VerifiedPositions { get; init; }
    /// <summary>Sum over verified positions of sum_y min(p, q).</summary>
    public required double OverlapSum { get; init; }
    public required int[] DraftedAt { get; init; }      // (gammaMax): rounds that drafted position i+1
    public required int[] AcceptedAt { get; init; }     // (gammaMax): rounds that accepted position i+1
    public required int[] RoundsByGamma { get; init; }  // (gammaMax+1): rounds that drafted g tokens
    public required int DraftCalls { get; init; }
    public required TimeSpan DraftTime { get; init; }
    public required TimeSpan TargetTime { get; init; }
    /// <summary>Prompt prefill plus decoding, first call to last token.</summary>
    public required TimeSpan TotalTime { get; init; }
    /// <summary>Target-only decoding of the same prompts and lengths; null until measured.</summary>
    public BaselineTiming? Baseline { get; init; }

    /// <summary>alpha = mean over verified positions of 1 - TVD(p, q).</summary>
    public double Alpha => VerifiedPositions == 0 ? double.NaN : OverlapSum / VerifiedPositions;

    public double EmpiricalAcceptance => Drafted == 0 ? double.NaN : (double)AcceptedDrafts / Drafted;

    /// <summary>tau = tokens emitted per target call.</summary>
    public double BlockEfficiency => TargetCalls == 0 ? double.NaN : (double)Emitted / TargetCalls;

    /// <summary>tau under the i.i.d. approximation at this alpha, averaged over the gamma each round actually drafted.</summary>
    public double TheoreticalBlockEfficiency
    {
        get
        {
            if (TargetCalls == 0) return double.NaN;
            double alpha = VerifiedPositions == 0 ? 0 : Alpha, sum = 0;
            for (int g = 0; g < RoundsByGamma.Length; g++) sum += RoundsByGamma[g] * ExpectedTokens(alpha, g);
            return sum / TargetCalls;
        }
    }

    /// <summary>(1 - alpha^(gamma+1)) / (1 - alpha): expected tokens from one round of gamma drafts.</summary>
    public static double ExpectedTokens(double alpha, int gamma) =>
        alpha >= 1 ? gamma + 1 : (1 - Math.Pow(alpha, gamma + 1)) / (1 - alpha);

    /// <summary>Drafts per round actually made: gamma, less at the length limit or with dynamic gamma.</summary>
    public double MeanGamma => TargetCalls == 0 ? double.NaN : (double)Drafted / TargetCalls;

    /// <summary>Share of drafts at position (1-based) that were accepted; earlier rejections count, so it falls like alpha^position.</summary>
    public double AcceptanceAt(int position) =>
        DraftedAt[position - 1] == 0 ? double.NaN : (double)AcceptedAt[position - 1] / DraftedAt[position - 1];

    public TimeSpan DraftStepTime => DraftCalls == 0 ? TimeSpan.Zero : DraftTime / DraftCalls;

    public TimeSpan TargetCallTime => TargetCalls == 0 ? TimeSpan.Zero : TargetTime / TargetCalls;

    /// <summary>c = one draft step / one target step of plain decoding.</summary>
    public double? CostRatio => Baseline is null ? null : DraftStepTime / Baseline.StepTime;

    /// <summary>MBSU = tau / (c gamma + 1), with gamma the mean drafted per round.</summary>
    public double? MemoryBoundSpeedup => CostRatio is double c ? BlockEfficiency / (c * MeanGamma + 1) : null;

    /// <summary>Emitted tokens per second of wall clock, prefill included.</summary>
    public double TokensPerSecond => Emitted / Math.Max(TotalTime.TotalSeconds, 1e-9);

    /// <summary>Tokens per second of speculative decoding over those of target-only decoding.</summary>
    public double? Speedup => Baseline is null ? null : TokensPerSecond / Baseline.TokensPerSecond;

    /// <summary>The measures in one line; the per-position arrays as lists.</summary>
    public override string ToString()
    {
        static string F(double? x) => x is double v && !double.IsNaN(v) ? v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "n/a";
        string byPosition = string.Join(", ", Enumerable.Range(1, GammaMax).Select(i => F(AcceptanceAt(i))));
        string speedup = Speedup is double s ? $"{F(s)}x ({(Baseline!.Estimated ? "estimated from the calibrated target step" : "measured")})" : "n/a";
        return $"alpha {F(Alpha)}, tau {F(BlockEfficiency)} (i.i.d. {F(TheoreticalBlockEfficiency)}), c {F(CostRatio)}, MBSU {F(MemoryBoundSpeedup)}, " +
               $"speed-up {speedup}; {Emitted} tokens in {TargetCalls} target calls, {AcceptedDrafts}/{Drafted} drafts accepted, " +
               $"acceptance by position [{byPosition}]";
    }

    public static SpeculativeStats Combine(IReadOnlyList<SpeculativeStats> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("nothing to combine", nameof(runs));
        int gammaMax = runs.Max(r => r.GammaMax);
        int[] Sum(Func<SpeculativeStats, int[]> pick, int length)
        {
            var total = new int[length];
            foreach (var r in runs)
                for (int i = 0; i < pick(r).Length; i++) total[i] += pick(r)[i];
            return total;
        }
        var baselines = runs.Select(r => r.Baseline).ToList();
        return new SpeculativeStats
        {
            GammaMax = gammaMax,
            TargetCalls = runs.Sum(r => r.TargetCalls),
            Emitted = runs.Sum(r => r.Emitted),
            Drafted = runs.Sum(r => r.Drafted),
            AcceptedDrafts = runs.Sum(r => r.AcceptedDrafts),
            VerifiedPositions = runs.Sum(r => r.VerifiedPositions),
            OverlapSum = runs.Sum(r => r.OverlapSum),
            DraftedAt = Sum(r => r.DraftedAt, gammaMax),
            AcceptedAt = Sum(r => r.AcceptedAt, gammaMax),
            RoundsByGamma = Sum(r => r.RoundsByGamma, gammaMax + 1),
            DraftCalls = runs.Sum(r => r.DraftCalls),
            DraftTime = runs.Aggregate(TimeSpan.Zero, (t, r) => t + r.DraftTime),
            TargetTime = runs.Aggregate(TimeSpan.Zero, (t, r) => t + r.TargetTime),
            TotalTime = runs.Aggregate(TimeSpan.Zero, (t, r) => t + r.TotalTime),
            Baseline = baselines.All(b => b is not null) ? BaselineTiming.Combine(baselines!) : null,
        };
    }
}

/// <summary>Target-only decoding timings: what speculative decoding is compared with.</summary>
public sealed record BaselineTiming(int Tokens, TimeSpan TotalTime, int DecodeSteps, TimeSpan DecodeTime)
{
    /// <summary>True when derived from a calibrated decode step rather than measured on the same prompt.</summary>
    public bool Estimated { get; init; }

    /// <summary>One single-token forward pass of the target (plus sampling), from the decode phase.</summary>
    public TimeSpan StepTime => DecodeSteps == 0 ? TimeSpan.Zero : DecodeTime / DecodeSteps;

    public double TokensPerSecond => Tokens / Math.Max(TotalTime.TotalSeconds, 1e-9);

    public static BaselineTiming From(GenerationResult r) => new(r.Tokens.Length, r.PromptTime + r.DecodeTime, r.DecodeSteps, r.DecodeTime);

    public static BaselineTiming Combine(IEnumerable<BaselineTiming> runs) =>
        runs.Aggregate(new BaselineTiming(0, TimeSpan.Zero, 0, TimeSpan.Zero),
            (a, b) => new BaselineTiming(a.Tokens + b.Tokens, a.TotalTime + b.TotalTime, a.DecodeSteps + b.DecodeSteps, a.DecodeTime + b.DecodeTime)
            {
                Estimated = a.Estimated || b.Estimated,
            });
}
