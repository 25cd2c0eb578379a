using DistillSpec.Sampling;

namespace DistillSpec;

/// <summary>What one generation call produces and how it samples.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate after the prompt.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>0 is greedy decoding.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>1 = off.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>The same seed, prompt and options give the same text; null draws a fresh seed.</summary>
    public int? Seed { get; init; }

    /// <summary>Generation ends before the first of these appears; the text never includes it.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep generating past the model's end-of-sequence tokens.</summary>
    public bool IgnoreEndOfSequence { get; init; }

    /// <summary>Whether to put BOS before the prompt; null follows the model's tokenizer configuration.</summary>
    public bool? AddBos { get; init; }

    /// <summary>
    /// For speculative generation only: also decode the same prompt with the target alone first, so
    /// that the result's speed-up is measured rather than estimated. Doubles the call's cost.
    /// </summary>
    public bool MeasureBaseline { get; init; }

    public SamplingSettings Sampling => new() { Temperature = Temperature, TopK = TopK, TopP = TopP };

    internal int ResolveSeed() => Seed ?? Random.Shared.Next();

    internal void Validate()
    {
        if (MaxTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "must be at least 1");
        ArgumentNullException.ThrowIfNull(StopStrings, nameof(StopStrings));
        Sampling.Validate();
    }
}
