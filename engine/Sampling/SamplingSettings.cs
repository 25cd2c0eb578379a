namespace DistillSpec.Sampling;

/// <summary>
/// How logits become the distribution a token is drawn from, in Hugging Face's order:
/// temperature, then top-k, then top-p measured on the distribution top-k left (renormalised).
/// Temperature 0 means greedy (a one-hot at the argmax), and so does any temperature below <see cref="GreedyBelow"/>.
/// </summary>
public sealed record SamplingSettings
{
    public float Temperature { get; init; } = 1f;
    public int TopK { get; init; }          // 0 = off
    public float TopP { get; init; } = 1f;  // 1 = off

    /// <summary>
    /// Below this, logits / T overflows float for logits of a few hundred (1e-45 turned every logit
    /// into an infinity, and softmax into NaN), and long before that the softmax already is a
    /// one-hot in float: a logit 1e-4 below the maximum gets exp(-100), under float's smallest
    /// normal. So such temperatures are greedy, exactly and on every backend.
    /// </summary>
    public const float GreedyBelow = 1e-6f;

    public bool Greedy => Temperature < GreedyBelow;

    public static SamplingSettings GreedyDecoding { get; } = new() { Temperature = 0f };

    public SamplingSettings Validate()
    {
        if (float.IsNaN(Temperature) || Temperature < 0f)
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be >= 0 (0 = greedy)");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 = off)");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1] (1 = off)");
        return this;
    }
}
