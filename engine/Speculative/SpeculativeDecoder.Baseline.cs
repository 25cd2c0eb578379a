using System.Diagnostics;
using DistillSpec.Generation;

namespace DistillSpec.Speculative;

public sealed partial class SpeculativeDecoder
{
    // Warm-up: short untimed runs of both paths on the measured prompt, until a run's time is within
    // 10% of the previous one's (at most 6 rounds).
    private const int WarmUpTokens = 8, MaxWarmUpRounds = 6;
    private const double SettledWithin = 0.10;
    private bool _warm;

    /// <summary>
    /// Generate with the remaining arguments, timed against target-only decoding of the same prompt,
    /// length and settings (seeded with baselineSeed); the result's stats carry the baseline's timing.
    /// </summary>
    /// <remarks>
    /// Both sides are measured warm and interleaved. A process's first runs pay for JIT compilation
    /// (the prefill's multi-row paths included, which a one-token warm-up never reaches) and cold
    /// caches; timed cold, a fresh process reported a 3.98x speed-up that its later runs put at 1.1-1.3x.
    /// So the first call on this decoder runs both paths untimed on this prompt until their times
    /// settle; then the order is baseline, speculative, speculative, baseline (ABBA), so a drift of
    /// machine load over the measurement falls on both sides alike. The speculative run returned (and
    /// streamed through onToken) is the first; its stats' total time is the mean of the two.
    /// </remarks>
    public SpeculativeResult GenerateAgainstBaseline(ReadOnlySpan<int> prompt, int maxTokens, int baselineSeed, IReadOnlySet<int>? stopTokens = null,
        Action<int, TokenOrigin>? onToken = null, int? seed = null, CancellationToken cancellationToken = default)
    {
        if (!_warm)
        {
            WarmUp(prompt, Math.Min(WarmUpTokens, maxTokens), baselineSeed, stopTokens, cancellationToken);
            _warm = true;
        }
        var before = Baseline(prompt, maxTokens, baselineSeed, stopTokens, cancellationToken);
        var result = Generate(prompt, maxTokens, stopTokens, onToken, seed, cancellationToken);
        if (result.StopReason == StopReason.Cancelled) return result with { Stats = result.Stats with { Baseline = before } };
        var again = Generate(prompt, maxTokens, stopTokens, null, seed, cancellationToken);
        var after = Baseline(prompt, maxTokens, baselineSeed, stopTokens, cancellationToken);
        // Tokens per second over both runs: (E1 + E2) / (T1 + T2), kept with the first run's token count.
        int emitted = result.Stats.Emitted + again.Stats.Emitted;
        var total = (result.Stats.TotalTime + again.Stats.TotalTime) * ((double)result.Stats.Emitted / Math.Max(emitted, 1));
        // Both baselines decode the same tokens (same seed), so their mean time is one run's.
        var baseline = before with { TotalTime = (before.TotalTime + after.TotalTime) / 2, DecodeTime = (before.DecodeTime + after.DecodeTime) / 2 };
        return result with { Stats = result.Stats with { TotalTime = total, Baseline = baseline } };
    }

    private BaselineTiming Baseline(ReadOnlySpan<int> prompt, int maxTokens, int seed, IReadOnlySet<int>? stopTokens, CancellationToken cancellationToken) =>
        BaselineTiming.From(new Generator(_target, _sampler.Settings, seed).Generate(prompt, maxTokens, stopTokens, cancellationToken: cancellationToken));

    private void WarmUp(ReadOnlySpan<int> prompt, int tokens, int seed, IReadOnlySet<int>? stopTokens, CancellationToken cancellationToken)
    {
        double lastBaseline = double.NaN, lastSpeculative = double.NaN;
        for (int round = 0; round < MaxWarmUpRounds && !cancellationToken.IsCancellationRequested; round++)
        {
            double baseline = Baseline(prompt, tokens, seed, stopTokens, cancellationToken).TotalTime.TotalSeconds;
            var clock = Stopwatch.StartNew();
            Generate(prompt, tokens, stopTokens, null, seed, cancellationToken);
            double speculative = clock.Elapsed.TotalSeconds;
            if (Settled(baseline, lastBaseline) && Settled(speculative, lastSpeculative)) break;
            (lastBaseline, lastSpeculative) = (baseline, speculative);
        }
    }

    private static bool Settled(double now, double before) => Math.Abs(now - before) <= SettledWithin * before;
}
