namespace DistillSpec.Sampling;

/// <summary>
/// How logits become the distribution a token is drawn from, in Hugging Face's order:
/// temperature, then top-k, then top-p. Temperature 0 means greedy (a one-hot at the argmax).
/// </summary>
public sealed record SamplingSettings
{
    public float Temperature { get; init; } = 1f;
    public int TopK { get; init; }          // 0 = off
    public float TopP { get; init; } = 1f;  // 1 = off

    public bool Greedy => Temperature <= 0f;

    public static SamplingSettings GreedyDecoding { get; } = new() { Temperature = 0f };

    public SamplingSettings Validate()
    {
        if (float.IsNaN(Temperature) || Temperature < 0f)
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be >= 0 (0 = greedy)");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be >= 0 (0 = off)");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1] (1 = off)");
        return this;
    }
}
