namespace DistillSpec.Tokenization;

/// <summary>
/// llama.cpp names a byte-level BPE tokenizer's pre-tokenizer (tokenizer.ggml.pre) instead of storing
/// its regex. These are the ones we reproduce, each as the tokenizer.json pipeline Hugging Face runs
/// for it: the isolating split regexes, then the byte-to-character mapping.
/// </summary>
internal static class GgufPreTokenizers
{
    /// <param name="Patterns">Isolating split regexes in order, as ByteLevelBpeSpec.PatternsOf reports them.</param>
    /// <param name="Nfc">Whether text is NFC-normalised first (Qwen's tokenizers).</param>
    /// <param name="IgnoreMerges">Whether a pre-token that is itself in the vocabulary skips BPE (Llama 3).</param>
    internal sealed record Entry(string Name, string[] Patterns, bool Nfc, bool IgnoreMerges);

    private const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static IReadOnlyList<Entry> All { get; } =
    [
        new("gpt-2", [PreTokenizerChain.Gpt2Pattern], Nfc: false, IgnoreMerges: false),
        new("llama-bpe", [Llama3Pattern], Nfc: false, IgnoreMerges: true),
        new("qwen2", [Qwen2Pattern], Nfc: true, IgnoreMerges: false),
    ];

    public static Entry? ByName(string name) => All.FirstOrDefault(e => e.Name == name);

    /// <summary>The entry whose split regexes are these, for export; null when none is.</summary>
    public static Entry? ByPatterns(IReadOnlyList<string> patterns) => All.FirstOrDefault(e => e.Patterns.SequenceEqual(patterns));

    public static string Names => string.Join(", ", All.Select(e => e.Name));

    public static PreTokenizerChain Chain(Entry entry) =>
        entry.Patterns is [PreTokenizerChain.Gpt2Pattern]
            ? PreTokenizerChain.Gpt2ByteLevel()
            : new([.. entry.Patterns.Select(p => new SplitStep(new JsRegex(p), SplitBehavior.Isolated, invert: false)),
                new ByteLevelStep(addPrefixSpace: false, split: null)]);
}
