using System.Diagnostics;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;

namespace DistillSpec.Generation;

public enum StopReason
{
    MaxTokens,
    EndOfSequence,

    /// <summary>The caller's CancellationToken was cancelled; the tokens so far are kept.</summary>
    Cancelled,
}

/// <summary>How a generated token came to be.</summary>
public enum TokenOrigin
{
    /// <summary>Sampled from the target alone (plain decoding, or a round in which nothing was drafted).</summary>
    Target,

    /// <summary>A draft token the target accepted.</summary>
    AcceptedDraft,

    /// <summary>The target's replacement for the first rejected draft token.</summary>
    Correction,

    /// <summary>The target's extra token after every draft of a round was accepted.</summary>
    Bonus,
}

public sealed record GenerationResult(
    int[] Tokens, int PromptTokens, TimeSpan PromptTime, int DecodeSteps, TimeSpan DecodeTime, StopReason StopReason)
{
    public double PromptTokensPerSecond => PromptTokens / Math.Max(PromptTime.TotalSeconds, 1e-9);
    public double DecodeTokensPerSecond => DecodeSteps / Math.Max(DecodeTime.TotalSeconds, 1e-9);
}

/// <summary>
/// Plain autoregressive decoding with one model: prefill the prompt, then one token per forward
/// pass. A profiler receives the phases prefill, forward and sample.
/// </summary>
public sealed class Generator(Transformer model, SamplingSettings settings, int seed, KernelProfiler? profiler = null)
{
    private readonly Sampler _sampler = new(settings, model.VocabSize, seed);

    /// <summary>
    /// Generates up to maxTokens after the prompt, calling onToken as each is produced; stops
    /// early at any of stopTokens, or with StopReason.Cancelled once cancellationToken is
    /// cancelled (checked before each forward pass). Decode steps are the forward passes after the
    /// prefill. With a seed, sampling restarts from it, so the same seed gives the same tokens;
    /// without one it continues this generator's random stream.
    /// </summary>
    public GenerationResult Generate(ReadOnlySpan<int> prompt, int maxTokens, IReadOnlySet<int>? stopTokens = null,
        Action<int>? onToken = null, int? seed = null, CancellationToken cancellationToken = default)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt must hold at least one token (add BOS for empty text)", nameof(prompt));
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "must generate at least one token");
        if (seed is int s) _sampler.Reseed(s);
        int positions = ContextLengthException.EnsureFits(prompt.Length, maxTokens, model.Config.MaxPositions);
        using var cache = model.CreateCache(positions);
        var logits = new float[model.VocabSize];
        var probabilities = new float[model.VocabSize];
        var tokens = new List<int>(maxTokens);

        var clock = Stopwatch.StartNew();
        using (KernelProfiler.Phase(profiler, "prefill"))
            model.Forward(prompt, 0, cache, logits);
        NonFiniteLogitsException.ThrowIfAny(logits, "model", prompt.Length - 1);
        var promptTime = clock.Elapsed;

        clock.Restart();
        int steps = 0;
        var reason = StopReason.MaxTokens;
        int next = Sample(logits, probabilities);
        while (true)
        {
            tokens.Add(next);
            onToken?.Invoke(next);
            if (stopTokens?.Contains(next) == true) { reason = StopReason.EndOfSequence; break; }
            if (tokens.Count == maxTokens) break;
            if (cancellationToken.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            using (KernelProfiler.Phase(profiler, "forward"))
                model.Forward(new ReadOnlySpan<int>(in next), cache.Length, cache, logits);
            NonFiniteLogitsException.ThrowIfAny(logits, "model", cache.Length - 1);
            steps++;
            next = Sample(logits, probabilities);
        }
        return new GenerationResult([.. tokens], prompt.Length, promptTime, steps, clock.Elapsed, reason);
    }

    private int Sample(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        using var phase = KernelProfiler.Phase(profiler, "sample");
        return _sampler.Sample(logits, probabilities);
    }
}
