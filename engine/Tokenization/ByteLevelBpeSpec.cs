namespace DistillSpec.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer as plain data, whichever HF file layout it came from: what GGUF export writes out.
/// <paramref name="SplitPatterns"/> are the pre-tokenizer's isolating regexes in order ("&lt;Metaspace&gt;"-style
/// placeholders name steps that are not a plain regex split).
/// </summary>
internal sealed record ByteLevelBpeSpec(
    IReadOnlyDictionary<string, int> Vocab,
    IReadOnlyList<(string Left, string Right)> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<string> SplitPatterns)
{
    public static IReadOnlyList<string> PatternsOf(PreTokenizerChain chain) => chain.Steps.SelectMany(step => step switch
    {
        SplitStep split => [split.IsolatingPattern ?? "<Split>"],
        ByteLevelStep byteLevel => byteLevel.SplitPattern is JsRegex r ? [r.Pattern] : Array.Empty<string>(),
        MatchesStep => ["<Digits/Punctuation/Whitespace>"],
        _ => [$"<{step.GetType().Name}>"],
    }).ToList();
}
