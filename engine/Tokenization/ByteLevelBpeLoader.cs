using System.Text;
using Microsoft.ML.Tokenizers;

namespace DistillSpec.Tokenization;

/// <summary>Builds byte-level BPE (GPT-2, Llama-3, Qwen2, SmolLM) on Microsoft.ML.Tokenizers' BpeTokenizer.</summary>
internal static class ByteLevelBpeLoader
{
    private static readonly string[] s_bosNames = ["<|begin_of_text|>", "<s>", "<|startoftext|>"];
    private static readonly string[] s_eosNames = ["<|end_of_text|>", "<|endoftext|>", "</s>"];

    public static TokenizerCore Create(ByteLevelBpeSpec spec)
    {
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (AddedToken t in spec.AddedTokens) special[t.Content] = t.Id;

        BpeTokenizer bpe = BpeTokenizer.Create(new BpeOptions(spec.Vocab)
        {
            Merges = spec.Merges,
            SpecialTokens = special.Count > 0 ? special : null,
            ByteLevel = true,
            PreTokenizer = new HfPreTokenizer(special.Keys, spec.Splits),
        });

        TokenTable table = BuildTable(spec);
        int? bos = spec.TemplateBosId ?? FirstKnown(table, s_bosNames);
        int? eos = FirstKnown(table, s_eosNames);
        return new TokenizerCore(
            text => bpe.EncodeToIds(text),
            table,
            bos,
            eos is int e ? [e] : [],
            DefaultAddBos: spec.TemplateBosId is not null);
    }

    private static TokenTable BuildTable(ByteLevelBpeSpec spec)
    {
        int count = 0;
        foreach (int id in spec.Vocab.Values) count = Math.Max(count, id + 1);
        foreach (AddedToken t in spec.AddedTokens) count = Math.Max(count, t.Id + 1);

        var table = new TokenTable(count);
        foreach (var (token, id) in spec.Vocab) table.Set(id, token, ByteUnicodeMap.TokenToBytes(token));
        // Added tokens are stored as plain text, not in the byte alphabet, so they override the vocab entry.
        foreach (AddedToken t in spec.AddedTokens)
            table.Set(t.Id, t.Content, t.Special ? [] : Encoding.UTF8.GetBytes(t.Content));
        return table;
    }

    private static int? FirstKnown(TokenTable table, string[] names)
    {
        foreach (string name in names)
            if (table.TryGetId(name, out int id)) return id;
        return null;
    }
}
