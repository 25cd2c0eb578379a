namespace DistillSpec.Tokenization;

/// <summary>
/// A loaded tokenizer before the model directory's config files are consulted: how to encode, the id table,
/// and what the tokenizer file itself declares about BOS/EOS (a SentencePiece model's pieces, a post-processor's template).
/// </summary>
internal sealed record TokenizerCore(
    Action<string, List<int>> Encode,
    TokenTable Table,
    int? FileBos,
    int[] FileEos,
    bool DefaultAddBos)
{
    /// <summary>Ids a post-processor puts before and after every sequence; null when the file has no post-processor notion.</summary>
    public (int[] Prefix, int[] Suffix)? Template { get; init; }
    /// <summary>Spaces the decoded text loses at its end (a Strip decoder after Fuse).</summary>
    public int TrailingSpaces { get; init; }
    /// <summary>The reference's default for clean_up_tokenization_spaces when tokenizer_config.json does not say.</summary>
    public bool CleanUpSpacesByDefault { get; init; }
    /// <summary>The tokenizer as data when it is byte-level BPE (for GGUF export).</summary>
    public ByteLevelBpeSpec? ByteLevelBpe { get; init; }
}
