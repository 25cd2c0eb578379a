namespace DistillSpec.Tokenization;

/// <summary>
/// A loaded tokenizer before the model directory's config files are consulted: how to encode, the id table,
/// and what the tokenizer itself implies about BOS/EOS when no config names them.
/// </summary>
internal sealed record TokenizerCore(
    Func<string, IReadOnlyList<int>> Encode,
    TokenTable Table,
    int? FallbackBos,
    int[] FallbackEos,
    bool DefaultAddBos);
