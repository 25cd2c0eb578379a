using DistillSpec.Generation;

namespace DistillSpec;

/// <summary>A whole generation: its text, tokens, how each token was produced, and its stats.</summary>
public sealed record Completion(string Text, IReadOnlyList<int> TokenIds, IReadOnlyList<TokenOrigin> Origins, GenerationStats Stats);
