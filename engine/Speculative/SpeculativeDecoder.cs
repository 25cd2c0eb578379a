using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Profiling;
using DistillSpec.Sampling;

namespace DistillSpec.Speculative;

public sealed record SpeculativeResult(
    int[] Tokens, int PromptTokens, TimeSpan PromptTime, TimeSpan DecodeTime, StopReason StopReason, SpeculativeStats Stats);

/// <summary>
/// Speculative decoding: the draft proposes up to gamma tokens, the target scores them all in one
/// forward pass, and Verifier keeps the longest prefix the acceptance test allows plus one token
/// of the target's own. p and q go through the same SamplingSettings transform, so with lenience 1
/// the output is distributed exactly as target-only sampling.
/// </summary>
/// <remarks>
/// Cache bookkeeping: with n tokens in the sequence, each round starts with the target cache
/// holding positions [0, n-1) and the draft cache at most that; the last token (and, after a fully
/// accepted round, the last draft too, which the draft never ran) is fed at the round's first draft
/// step. Rolling back is then one Truncate per cache to the accepted length.
/// With an IDeviceVerifier (the target on a GPU), the target's logits never leave the device:
/// the verifier computes p, the verdict and the next token there. Without one, p is computed
/// here and Verifier decides; both consume the same uniforms. A greedy draft on a device with a
/// device sampler reads back only its drafted ids.
/// </remarks>
public sealed partial class SpeculativeDecoder : IDisposable
{
    private readonly Transformer _target, _draft;
    private readonly SpeculativeOptions _options;
    private readonly Sampler _sampler;
    private readonly IDeviceVerifier? _deviceVerifier;
    private readonly IDeviceSampler? _draftSampler;
    private readonly KernelProfiler? _profiler;
    private KvCache? _targetCache, _draftCache;
    private readonly int _vocab;
    private readonly float[] _draftLogits, _confidence;  // (vocab)
    private readonly float[] _q;                         // (gammaMax, vocab)
    private readonly float[] _targetLogits, _p;          // (gammaMax+1, vocab)
    private readonly float[] _residual;                  // (vocab)
    private readonly int[] _block;                       // (gammaMax+1): last sequence token, then the drafts
    private readonly double[] _uniforms;                 // (gammaMax+1)
    private readonly double[] _overlaps;                 // (gammaMax)

    /// <param name="deviceVerifier">Verifies on the target's device; only for a target on that device's backend.</param>
    /// <param name="profiler">Receives the phases: prefill, draft, verify (the target pass) and sample (p, accept/reject, next token).</param>
    public SpeculativeDecoder(Transformer target, Transformer draft, SamplingSettings settings, SpeculativeOptions options, int seed,
        IDeviceVerifier? deviceVerifier = null, KernelProfiler? profiler = null)
    {
        if (target.VocabSize != draft.VocabSize)
            throw new ArgumentException($"target and draft must share a vocabulary, but the target has {target.VocabSize} ids and the draft {draft.VocabSize}");
        _target = target;
        _draft = draft;
        _options = options.Validate();
        int context = Math.Min(target.Config.MaxPositions, draft.Config.MaxPositions);
        if (options.DraftMax >= context)
            throw new ArgumentOutOfRangeException(nameof(options), options.DraftMax,
                $"draft-max must be below the context length ({context} positions) of the target and draft");
        _sampler = new Sampler(settings, target.VocabSize, seed);
        _vocab = target.VocabSize;
        int g = options.DraftMax;
        _draftLogits = new float[_vocab];
        _confidence = new float[_vocab];
        _q = new float[g * _vocab];
        _targetLogits = new float[(g + 1) * _vocab];
        _p = new float[(g + 1) * _vocab];
        _residual = new float[_vocab];
        _block = new int[g + 1];
        _uniforms = new double[g + 1];
        _overlaps = new double[g];
        _deviceVerifier = deviceVerifier;
        _profiler = profiler;
        // A greedy draft on a device draws there and reads back its token; q is then the one-hot
        // at it. Sampled drafts and the confidence threshold need the logits on the host.
        if (settings.Greedy && options.DraftPMin <= 0f) _draftSampler = draft.Backend.CreateSampler(settings);
    }

    public SpeculativeOptions Options => _options;

    internal KvCache TargetCache => _targetCache ?? throw new InvalidOperationException("nothing generated yet");

    internal KvCache DraftCache => _draftCache ?? throw new InvalidOperationException("nothing generated yet");

    /// <summary>
    /// Generates up to maxTokens after the prompt, calling onToken with each token as it is
    /// emitted and how it was produced; stops early after any of stopTokens, or with
    /// StopReason.Cancelled once cancellationToken is cancelled (checked before each round).
    /// With a seed, sampling restarts from it, so the same seed gives the same tokens; without one
    /// it continues this decoder's random stream.
    /// </summary>
    public SpeculativeResult Generate(ReadOnlySpan<int> prompt, int maxTokens, IReadOnlySet<int>? stopTokens = null,
        Action<int, TokenOrigin>? onToken = null, int? seed = null, CancellationToken cancellationToken = default)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt must hold at least one token (add BOS for empty text)", nameof(prompt));
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "must generate at least one token");
        if (seed is int s) _sampler.Reseed(s);
        int positions = ContextLengthException.EnsureFits(prompt.Length, maxTokens, Math.Min(_target.Config.MaxPositions, _draft.Config.MaxPositions));
        var (targetCache, draftCache) = Caches(positions);
        var sequence = new List<int>(prompt.Length + maxTokens);
        sequence.AddRange(prompt);
        var stats = new StatsCounter(_options.DraftMax);

        var clock = Stopwatch.StartNew();
        if (prompt.Length > 1)
        {
            using var prefill = KernelProfiler.Phase(_profiler, "prefill");
            _target.Forward(prompt[..^1], 0, targetCache, _draftLogits);
            _draft.Forward(prompt[..^1], 0, draftCache, _draftLogits);
        }
        var promptTime = clock.Elapsed;

        int emitted = 0, gamma = _options.DraftMax;
        var reason = StopReason.MaxTokens;
        while (emitted < maxTokens && reason == StopReason.MaxTokens)
        {
            if (cancellationToken.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            // A round emits at most drafted + 1 tokens, so this never overshoots maxTokens.
            int drafted;
            using (KernelProfiler.Phase(_profiler, "draft"))
                drafted = Draft(CollectionsMarshal.AsSpan(sequence), Math.Min(gamma, maxTokens - emitted - 1), stats);
            var verdict = Verify(CollectionsMarshal.AsSpan(sequence), drafted, stats);

            for (int i = 0; i <= verdict.Accepted && reason == StopReason.MaxTokens; i++)
            {
                int token = i < verdict.Accepted ? _block[i + 1] : verdict.Next;
                sequence.Add(token);
                emitted++;
                onToken?.Invoke(token, Origin(i, verdict.Accepted, drafted));
                if (stopTokens?.Contains(token) == true) reason = StopReason.EndOfSequence;
            }
            // Keep what was emitted except the new last token, which is fed next round; a stop token
            // inside the block drops the accepted drafts after it too.
            int kept = sequence.Count - 1;
            targetCache.Truncate(kept);
            draftCache.Truncate(Math.Min(draftCache.Length, kept));

            if (_options.Adaptive)
            {
                if (drafted == gamma && verdict.Accepted == drafted) gamma = Math.Min(gamma + 1, _options.DraftMax);
                else if (drafted > 0 && verdict.Accepted == 0) gamma = Math.Max(gamma - 1, 1);
            }
        }
        var decodeTime = clock.Elapsed - promptTime;
        return new SpeculativeResult([.. sequence.Skip(prompt.Length)], prompt.Length, promptTime, decodeTime, reason,
            stats.ToStats(emitted, clock.Elapsed));
    }

    // Both caches, empty, with room for positions [0, positions); reused while big enough, since
    // a full-context cache per model can be large and many short runs are the benchmark's case.
    private (KvCache Target, KvCache Draft) Caches(int positions)
    {
        if (_targetCache is null || _targetCache.Capacity < positions)
        {
            _targetCache?.Dispose();
            _targetCache = _target.CreateCache(positions);
        }
        if (_draftCache is null || _draftCache.Capacity < positions)
        {
            _draftCache?.Dispose();
            _draftCache = _draft.CreateCache(positions);
        }
        _targetCache.Clear();
        _draftCache.Clear();
        _targetCache.EnsureRoom(0, positions);
        _draftCache.EnsureRoom(0, positions);
        return (_targetCache, _draftCache);
    }

    // Drafts up to budget tokens into _block[1..] and their distributions into _q; returns how many.
    private int Draft(ReadOnlySpan<int> sequence, int budget, StatsCounter stats)
    {
        int n = sequence.Length;
        var cache = DraftCache;
        for (int i = 0; i < budget; i++)
        {
            int start = cache.Length;
            var feed = i == 0 ? sequence[start..] : _block.AsSpan(i, 1);
            var q = _q.AsSpan(i * _vocab, _vocab);
            long t0 = Stopwatch.GetTimestamp();
            if (_draftSampler is not null)
            {
                // The host path's Draw consumes a uniform even under greedy; so does this one, to keep the streams aligned.
                var logits = _draft.ForwardLast(feed, start, cache);
                int token = _draftSampler.Sample(logits, _vocab, _sampler.NextUniform());
                stats.DraftCall(Stopwatch.GetElapsedTime(t0));
                q.Clear();
                q[token] = 1f;
                _block[i + 1] = token;
                continue;
            }
            _draft.Forward(feed, start, cache, _draftLogits);
            stats.DraftCall(Stopwatch.GetElapsedTime(t0));
            NonFiniteLogitsException.ThrowIfAny(_draftLogits, "draft", cache.Length - 1);
            if (_options.DraftPMin > 0f && i >= _options.DraftMin && TopProbability(_draftLogits) < _options.DraftPMin) return i;
            _sampler.Distribution(_draftLogits, q);
            _block[i + 1] = Sampler.Draw(q, _sampler.NextUniform());
        }
        Debug.Assert(budget == 0 || cache.Length == n + budget - 1);
        return budget;
    }

    // Scores the last sequence token plus the drafts in one target pass and runs the acceptance test.
    private Verdict Verify(ReadOnlySpan<int> sequence, int drafted, StatsCounter stats)
    {
        int n = sequence.Length, k = drafted + 1, v = _vocab;
        var cache = TargetCache;
        Debug.Assert(cache.Length == n - 1);
        _block[0] = sequence[n - 1];
        var block = _block.AsSpan(0, k);
        var q = _q.AsSpan(0, drafted * v);
        if (_deviceVerifier is not null && k <= Transformer.ChunkRows) return VerifyOnDevice(block, n - 1, q, stats);

        var logits = _targetLogits.AsSpan(0, k * v);
        long t0 = Stopwatch.GetTimestamp();
        using (KernelProfiler.Phase(_profiler, "verify"))
            _target.Forward(block, n - 1, cache, logits);
        stats.TargetCall(Stopwatch.GetElapsedTime(t0));
        NonFiniteLogitsException.ThrowIfAny(logits, v, "target", n - 1);

        using var sample = KernelProfiler.Phase(_profiler, "sample");
        var p = _p.AsSpan(0, k * v);
        for (int i = 0; i < k; i++) _sampler.Distribution(logits.Slice(i * v, v), p.Slice(i * v, v));
        for (int i = 0; i < k; i++) _uniforms[i] = _sampler.NextUniform();
        var verdict = Verifier.Verify(p, q, block[1..], _uniforms.AsSpan(0, k), _options.Lenience, _options.LenienceFunction, _residual);

        int tested = Tested(verdict, drafted);
        for (int i = 0; i < tested; i++) _overlaps[i] = Verifier.Overlap(p.Slice(i * v, v), q.Slice(i * v, v));
        stats.Round(drafted, verdict.Accepted, _overlaps.AsSpan(0, tested));
        return verdict;
    }

    // The target's call time includes the verifier: its read-back is where the queued device work
    // is waited for.
    private Verdict VerifyOnDevice(ReadOnlySpan<int> block, int start, ReadOnlySpan<float> q, StatsCounter stats)
    {
        int k = block.Length;
        long t0 = Stopwatch.GetTimestamp();
        Backends.Tensor logits;
        using (KernelProfiler.Phase(_profiler, "verify"))
            logits = _target.Forward(block, start, TargetCache);
        for (int i = 0; i < k; i++) _uniforms[i] = _sampler.NextUniform();
        Verdict verdict;
        using (KernelProfiler.Phase(_profiler, "sample"))
            verdict = _deviceVerifier!.Verify(logits, _vocab, q, block[1..], _uniforms.AsSpan(0, k), _sampler.Settings, _options.Lenience, _options.LenienceFunction, _overlaps);
        stats.TargetCall(Stopwatch.GetElapsedTime(t0));
        if (verdict.Next == IDeviceVerifier.NonFiniteLogits && (uint)verdict.Accepted < (uint)k)
            throw new NonFiniteLogitsException("target", start + verdict.Accepted, value: null);
        if ((uint)verdict.Accepted > (uint)(k - 1) || (uint)verdict.Next >= (uint)_vocab)
            throw new InvalidOperationException($"the device verifier returned {verdict} for {k - 1} drafts and a vocabulary of {_vocab}");
        stats.Round(k - 1, verdict.Accepted, _overlaps.AsSpan(0, Tested(verdict, k - 1)));
        return verdict;
    }

    private static TokenOrigin Origin(int index, int accepted, int drafted) =>
        index < accepted ? TokenOrigin.AcceptedDraft
        : drafted == 0 ? TokenOrigin.Target
        : accepted < drafted ? TokenOrigin.Correction
        : TokenOrigin.Bonus;

    // Positions whose acceptance test ran and whose prefix is kept: the accepted ones and the first rejection.
    private static int Tested(Verdict verdict, int drafted) => verdict.Accepted < drafted ? verdict.Accepted + 1 : drafted;

    // The draft's own confidence: softmax at temperature 1, before the sampling transform, so the
    // threshold means the same under greedy decoding, where q is one-hot.
    private float TopProbability(ReadOnlySpan<float> logits)
    {
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, _confidence);
        TensorPrimitives.Exp(_confidence, _confidence);
        return 1f / TensorPrimitives.Sum(_confidence);
    }

    public void Dispose()
    {
        _draftSampler?.Dispose();
        _targetCache?.Dispose();
        _draftCache?.Dispose();
    }

    private sealed class StatsCounter(int gammaMax)
    {
        private readonly int[] _draftedAt = new int[gammaMax], _acceptedAt = new int[gammaMax], _roundsByGamma = new int[gammaMax + 1];
        private int _targetCalls, _drafted, _accepted, _verified, _draftCalls;
        private double _overlap;
        private TimeSpan _draftTime, _targetTime;

        public void DraftCall(TimeSpan t) { _draftCalls++; _draftTime += t; }

        public void TargetCall(TimeSpan t) { _targetCalls++; _targetTime += t; }

        public void Round(int drafted, int accepted, ReadOnlySpan<double> overlaps)
        {
            foreach (double beta in overlaps) _overlap += beta;
            _verified += overlaps.Length;
            _drafted += drafted;
            _accepted += accepted;
            _roundsByGamma[drafted]++;
            for (int i = 0; i < drafted; i++) _draftedAt[i]++;
            for (int i = 0; i < accepted; i++) _acceptedAt[i]++;
        }

        public SpeculativeStats ToStats(int emitted, TimeSpan total) => new()
        {
            GammaMax = gammaMax,
            TargetCalls = _targetCalls,
            Emitted = emitted,
            Drafted = _drafted,
            AcceptedDrafts = _accepted,
            VerifiedPositions = _verified,
            OverlapSum = _overlap,
            DraftedAt = _draftedAt,
            AcceptedAt = _acceptedAt,
            RoundsByGamma = _roundsByGamma,
            DraftCalls = _draftCalls,
            DraftTime = _draftTime,
            TargetTime = _targetTime,
            TotalTime = total,
        };
    }
}
