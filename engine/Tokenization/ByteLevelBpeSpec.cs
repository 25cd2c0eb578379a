using System.Text.RegularExpressions;

namespace DistillSpec.Tokenization;

/// <summary>Everything needed to build a byte-level BPE tokenizer, whichever HF file layout it came from.</summary>
internal sealed class ByteLevelBpeSpec
{
    public required Dictionary<string, int> Vocab { get; init; }
    /// <summary>Merges as "left right" lines, highest priority first.</summary>
    public required List<string> Merges { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required List<Regex> Splits { get; init; }
    /// <summary>The id a TemplateProcessing post-processor puts in front of every sequence (Llama-3 style BOS).</summary>
    public int? TemplateBosId { get; init; }
}
