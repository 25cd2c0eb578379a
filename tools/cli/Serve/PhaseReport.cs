namespace DistillSpec.Cli.Serve;

/// <summary>The figures of one load-test phase, as printed and written to the report.</summary>
internal sealed record PhaseReport
{
    public required bool Speculative { get; init; }
    public required int Requests { get; init; }
    public required double ElapsedS { get; init; }
    public required double RequestsPerSecond { get; init; }
    public required double TokensPerSecond { get; init; }
    public required double TtftP50Ms { get; init; }
    public required double TtftP99Ms { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    /// <summary>Failed requests plus replies that differ from their prompt's reference (lost, cut or mixed text) or reuse an id.</summary>
    public required int Errors { get; init; }
    public required int Mismatched { get; init; }
    public required long Drafted { get; init; }
    public required long AcceptedDrafts { get; init; }
    /// <summary>Null without a draft (JSON has no NaN).</summary>
    public double? AcceptanceRate => Drafted == 0 ? null : (double)AcceptedDrafts / Drafted;
    public required IReadOnlyList<string> ErrorSamples { get; init; }
    /// <summary>The server's /metrics after the phase.</summary>
    public required string Metrics { get; init; }

    public static PhaseReport From(bool speculative, List<LoadResult> results, string[] references, TimeSpan elapsed, string metrics)
    {
        var ok = results.Where(r => r.Error is null).ToList();
        var mismatched = ok.Where(r => r.Text != references[r.Prompt]).ToList();
        int duplicateIds = ok.Count - ok.Select(r => r.Id).Distinct().Count();
        var errors = results.Where(r => r.Error is not null).Select(r => r.Error!)
            .Concat(mismatched.Select(r => $"reply {r.Id} to prompt {r.Prompt} differs from its reference: \"{Clip(r.Text)}\" vs \"{Clip(references[r.Prompt])}\""))
            .ToList();
        if (duplicateIds > 0) errors.Add($"{duplicateIds} completion ids were sent twice");
        double seconds = elapsed.TotalSeconds;
        return new PhaseReport
        {
            Speculative = speculative,
            Requests = results.Count,
            ElapsedS = seconds,
            RequestsPerSecond = ok.Count / seconds,
            TokensPerSecond = ok.Sum(r => r.CompletionTokens) / seconds,
            TtftP50Ms = Percentile(ok.Select(r => r.FirstToken.TotalMilliseconds), 0.50),
            TtftP99Ms = Percentile(ok.Select(r => r.FirstToken.TotalMilliseconds), 0.99),
            LatencyP50Ms = Percentile(ok.Select(r => r.Latency.TotalMilliseconds), 0.50),
            LatencyP99Ms = Percentile(ok.Select(r => r.Latency.TotalMilliseconds), 0.99),
            Errors = errors.Count,
            Mismatched = mismatched.Count,
            Drafted = ok.Sum(r => (long)r.Drafted),
            AcceptedDrafts = ok.Sum(r => (long)r.Accepted),
            ErrorSamples = [.. errors.Take(5)],
            Metrics = metrics,
        };
    }

    // Nearest rank: the smallest value with at least q of the sample at or below it.
    private static double Percentile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Clip(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
