using System.Diagnostics;
using DistillSpec.Backends;
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
/// pass. On a backend with a device sampler (a GPU) the logits never leave the device. A profiler
/// receives the phases prefill, forward and sample.
/// </summary>
public sealed class Generator(Transformer model, SamplingSettings settings, int seed, KernelProfiler? profiler = null)
{
    private readonly Sampler _sampler = new(settings, model.VocabSize, seed);
    private readonly float[] _logits = new float[model.VocabSize], _probabilities = new float[model.VocabSize];

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
        using var device = model.Backend.CreateSampler(settings);
        var tokens = new List<int>(maxTokens);

        var clock = Stopwatch.StartNew();
        Tensor? logits;
        using (KernelProfiler.Phase(profiler, "prefill"))
            logits = Forward(prompt, 0, cache, device);
        var promptTime = clock.Elapsed;

        clock.Restart();
        int steps = 0;
        var reason = StopReason.MaxTokens;
        int next = Sample(logits, device);
        while (true)
        {
            tokens.Add(next);
            onToken?.Invoke(next);
            if (stopTokens?.Contains(next) == true) { reason = StopReason.EndOfSequence; break; }
            if (tokens.Count == maxTokens) break;
            if (cancellationToken.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            using (KernelProfiler.Phase(profiler, "forward"))
                logits = Forward(new ReadOnlySpan<int>(in next), cache.Length, cache, device);
            steps++;
            next = Sample(logits, device);
        }
        return new GenerationResult([.. tokens], prompt.Length, promptTime, steps, clock.Elapsed, reason);
    }

    // The last position's logits: downloaded into _logits (returns null), or, with a device
    // sampler, left on the device (returns the tensor holding them in row 0).
    private Tensor? Forward(ReadOnlySpan<int> tokens, int start, KvCache cache, IDeviceSampler? device)
    {
        if (device is not null) return model.ForwardLast(tokens, start, cache);
        model.Forward(tokens, start, cache, _logits);
        NonFiniteLogitsException.ThrowIfAny(_logits, "model", start + tokens.Length - 1);
        return null;
    }

    // On the device only the id comes back; the uniform comes from the same seeded stream as on
    // the host, so both draw alike.
    private int Sample(Tensor? deviceLogits, IDeviceSampler? device)
    {
        using var phase = KernelProfiler.Phase(profiler, "sample");
        return device is null
            ? _sampler.Sample(_logits, _probabilities)
            : device.Sample(deviceLogits!, model.VocabSize, settings.Greedy ? 0 : _sampler.NextUniform());
    }
}
