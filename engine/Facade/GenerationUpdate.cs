using DistillSpec.Generation;
using DistillSpec.Speculative;

namespace DistillSpec;

/// <summary>Why a generation ended.</summary>
public enum FinishReason
{
    /// <summary>MaxTokens were generated.</summary>
    Length,

    /// <summary>The model produced an end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>A stop string appeared; the text ends before it.</summary>
    StopString,
}

/// <summary>
/// One step of a streamed generation. Token ids arrive as they are generated; their text may come
/// later (a character split over byte tokens is completed first, and text that may begin a stop
/// string is held back until it cannot). The last update carries <see cref="Stats"/>.
/// </summary>
public sealed record GenerationUpdate
{
    /// <summary>Text completed by this update; may be empty.</summary>
    public required string Text { get; init; }

    /// <summary>Tokens generated since the previous update.</summary>
    public required IReadOnlyList<int> TokenIds { get; init; }

    /// <summary>How each of <see cref="TokenIds"/> was produced (Target for plain decoding).</summary>
    public required IReadOnlyList<TokenOrigin> Origins { get; init; }

    /// <summary>Set on the last update of a call only.</summary>
    public GenerationStats? Stats { get; init; }

    public bool IsFinal => Stats is not null;
}

/// <summary>Counts and timings of one generation call.</summary>
public sealed record GenerationStats
{
    public required int PromptTokens { get; init; }

    public required int GeneratedTokens { get; init; }

    /// <summary>Prefill of the prompt (both models', for speculative decoding).</summary>
    public required TimeSpan PromptTime { get; init; }

    /// <summary>Tokens produced after the prefill: plain decoding samples its first token from the prefill's logits.</summary>
    public required int DecodedTokens { get; init; }

    public required TimeSpan DecodeTime { get; init; }

    public required FinishReason FinishReason { get; init; }

    /// <summary>The seed sampling used: pass it back in GenerationOptions.Seed to repeat the call.</summary>
    public required int Seed { get; init; }

    /// <summary>Acceptance, block efficiency, cost ratio, MBSU and speed-up; null for plain decoding.</summary>
    public SpeculativeStats? Speculative { get; init; }

    /// <summary>Tokens per second of the decode phase (after the prompt's prefill).</summary>
    public double DecodeTokensPerSecond => DecodedTokens / Math.Max(DecodeTime.TotalSeconds, 1e-9);

    public double PromptTokensPerSecond => PromptTokens / Math.Max(PromptTime.TotalSeconds, 1e-9);

    public override string ToString() =>
        $"{PromptTokens} prompt tokens in {PromptTime.TotalMilliseconds:F1} ms, {GeneratedTokens} generated in {DecodeTime.TotalMilliseconds:F1} ms " +
        $"({DecodeTokensPerSecond:F1} tokens/s), finished by {FinishReason}, seed {Seed}" + (Speculative is null ? "" : $"; {Speculative}");
}
