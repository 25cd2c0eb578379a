using DistillSpec.Models;
using DistillSpec.Tokenization;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// A byte-level BPE tokenizer as llama.cpp's "gpt2" tokenizer model wants it: one token string
/// and type per embedding row, merges as "left right" lines, and the name of the pre-tokenizer
/// regex llama.cpp should apply.
/// </summary>
internal sealed record GgufVocabulary(string[] Tokens, int[] TokenTypes, string[] Merges, string PreTokenizer)
{
    /// <summary>llama.cpp's name for GPT-2's split regex (LLAMA_VOCAB_PRE_TYPE_GPT2).</summary>
    public const string Gpt2PreTokenizer = "gpt-2";

    /// <param name="vocabSize">Embedding rows. Ids the tokenizer lacks become "[PAD{id}]" of type Unused,
    /// as convert_hf_to_gguf.py does, because llama.cpp sizes the embedding by the token list.</param>
    /// <param name="preTokenizer">llama.cpp pre-tokenizer name; null picks the one whose regex the tokenizer uses.</param>
    public static GgufVocabulary Read(string directory, int vocabSize, string? preTokenizer)
    {
        ByteLevelBpeSpec spec = ReadSpec(directory);
        var tokens = new string?[vocabSize];
        var types = new int[vocabSize];
        void Set(string text, int id, GgufTokenType type)
        {
            if ((uint)id >= (uint)vocabSize)
                throw new ModelFormatException(directory, $"token '{text}' has id {id}, outside the model's vocab_size of {vocabSize}");
            tokens[id] = text;
            types[id] = (int)type;
        }
        foreach (var (text, id) in spec.Vocab) Set(text, id, GgufTokenType.Normal);
        // Added tokens are plain text rather than byte-alphabet strings, and win over a vocab entry of the same id.
        foreach (var added in spec.AddedTokens) Set(added.Content, added.Id, added.Special ? GgufTokenType.Control : GgufTokenType.UserDefined);
        for (int id = 0; id < vocabSize; id++)
            if (tokens[id] is null) Set($"[PAD{id}]", id, GgufTokenType.Unused);

        return new GgufVocabulary(tokens!, types, spec.Merges.Select(m => m.Left + " " + m.Right).ToArray(), preTokenizer ?? Gpt2Only(spec, directory));
    }

    private static string Gpt2Only(ByteLevelBpeSpec spec, string directory) =>
        GgufPreTokenizers.ByPatterns(spec.SplitPatterns)?.Name
        ?? throw new ModelFormatException(directory,
            $"the tokenizer splits text with [{string.Join(" | ", spec.SplitPatterns)}], which is none of the pre-tokenizers this engine names " +
            $"({GgufPreTokenizers.Names}); name llama.cpp's pre-tokenizer for it explicitly (e.g. smollm)");

    // The same layouts TextTokenizer reads, restricted to byte-level BPE: llama.cpp's "gpt2" model cannot hold SentencePiece.
    private static ByteLevelBpeSpec ReadSpec(string dir) =>
        TextTokenizer.LoadCore(dir, []).ByteLevelBpe
        ?? throw new ModelFormatException(dir, "GGUF export needs a byte-level BPE tokenizer (tokenizer.json, or vocab.json + merges.txt)");
}
