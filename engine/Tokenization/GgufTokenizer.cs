using System.Globalization;
using System.Text;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>
/// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, rebuilt on the tokenizer.json
/// pipeline: "gpt2" is byte-level BPE from tokens and merges with a named pre-tokenizer; "llama" is
/// SentencePiece BPE from tokens, scores and types, with byte fallback.
/// </summary>
internal static class GgufTokenizer
{
    private const string Prefix = "tokenizer.ggml.";

    /// <summary>The tokenizer of a GGUF file, for as many embedding rows as token_embd.weight has.</summary>
    public static TextTokenizer Load(GgufFile file) =>
        Load(file, file.Contains("token_embd.weight") && file.Tensor("token_embd.weight").Shape is [var rows, _] ? (int)rows : int.MaxValue);

    /// <param name="vocabSize">Embedding rows; the token list may not be longer.</param>
    public static TextTokenizer Load(GgufFile file, int vocabSize)
    {
        string model = Required<string>(file, "model");
        string[] tokens = Required<string[]>(file, "tokens");
        if (tokens.Length > vocabSize)
            throw Error(file, $"'{Prefix}tokens' holds {tokens.Length} tokens but token_embd.weight has only {vocabSize} rows");
        var types = TokenTypes(file, tokens.Length);
        TokenizerCore core = model switch
        {
            "gpt2" => ByteLevelBpe(file, tokens, types),
            "llama" => SentencePieceBpe(file, tokens, types),
            _ => throw Error(file, $"'{Prefix}model' is \"{model}\"; supported tokenizer models: gpt2 (byte-level BPE), llama (SentencePiece BPE)"),
        };
        int? bos = TokenId(file, "bos_token_id", tokens.Length);
        int[] eos = new[] { TokenId(file, "eos_token_id", tokens.Length), TokenId(file, "eot_token_id", tokens.Length) }
            .OfType<int>().Distinct().ToArray();
        bool addBos = bos is not null && (file.Optional<bool?>(Prefix + "add_bos_token") ?? model == "llama");
        bool addEos = eos.Length > 0 && (file.Optional<bool?>(Prefix + "add_eos_token") ?? false);
        core = core with { Template = (addBos ? [bos!.Value] : [], addEos ? [eos[0]] : []) };
        return TextTokenizer.Create(core, bos, eos, addBos);
    }

    private static T Required<T>(GgufFile file, string key) =>
        file.TryGet(Prefix + key, out _) ? file.Get<T>(Prefix + key) : throw Error(file, $"metadata key '{Prefix}{key}' is missing; the file carries no tokenizer");

    private static ModelFormatException Error(GgufFile file, string problem) => new(file.Path, problem);

    private static GgufTokenType[] TokenTypes(GgufFile file, int count)
    {
        int[]? stored = file.Optional<int[]>(Prefix + "token_type");
        if (stored is null) return Enumerable.Repeat(GgufTokenType.Normal, count).ToArray();
        if (stored.Length != count)
            throw Error(file, $"'{Prefix}token_type' has {stored.Length} entries for {count} tokens");
        for (int i = 0; i < stored.Length; i++)
            if (!Enum.IsDefined((GgufTokenType)stored[i]))
                throw Error(file, $"'{Prefix}token_type' of token {i} is {stored[i]}; token types are 1..6");
        return stored.Select(t => (GgufTokenType)t).ToArray();
    }

    private static int? TokenId(GgufFile file, string key, int count)
    {
        int? id = file.OptionalInt(Prefix + key);
        if (id is int i && i >= count) throw Error(file, $"'{Prefix}{key}' is {i}, outside the {count} tokens");
        return id;
    }

    // Control tokens are special (cut out of the text, decoded to nothing); user-defined ones are cut out but decode to their text.
    private static List<AddedToken> AddedTokens(string[] tokens, GgufTokenType[] types) =>
        Enumerable.Range(0, tokens.Length)
            .Where(i => types[i] is GgufTokenType.Control or GgufTokenType.UserDefined)
            .Select(i => new AddedToken(tokens[i], i, Special: types[i] == GgufTokenType.Control))
            .ToList();

    private static TokenizerCore ByteLevelBpe(GgufFile file, string[] tokens, GgufTokenType[] types)
    {
        string preName = file.Optional<string>(Prefix + "pre") ?? "gpt-2";
        var pre = GgufPreTokenizers.ByName(preName)
            ?? throw Error(file, $"'{Prefix}pre' is \"{preName}\", a pre-tokenizer this engine does not reproduce; supported: {GgufPreTokenizers.Names}");
        var merges = new List<(string, string)>();
        string[] stored = Required<string[]>(file, "merges");
        for (int i = 0; i < stored.Length; i++)
            merges.Add(stored[i].Split(' ') is [var left, var right] ? (left, right)
                : throw Error(file, $"'{Prefix}merges' entry {i} is \"{stored[i]}\", expected \"left right\""));

        var added = AddedTokens(tokens, types);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var table = new TokenTable(tokens.Length);
        for (int id = 0; id < tokens.Length; id++)
        {
            switch (types[id])
            {
                case GgufTokenType.Control: table.Set(id, tokens[id], []); break;
                case GgufTokenType.UserDefined: table.Set(id, tokens[id], Encoding.UTF8.GetBytes(tokens[id])); break;
                // Padding rows ("[PAD123]") are not text the model was trained on.
                case GgufTokenType.Unused: table.Set(id, tokens[id], []); break;
                default:
                    ids.TryAdd(tokens[id], id);
                    table.Set(id, tokens[id], ByteUnicodeMap.TokenToBytes(tokens[id]));
                    break;
            }
        }
        var vocab = new Dictionary<string, int>(ids, StringComparer.Ordinal);
        foreach (var t in added) ids[t.Content] = t.Id;
        BpeModel bpe;
        try
        {
            bpe = new BpeModel(ids, merges, unknownId: -1, fuseUnknown: false, byteFallback: false, ignoreMerges: pre.IgnoreMerges);
        }
        catch (ArgumentException e)
        {
            throw Error(file, $"'{Prefix}merges': {e.Message}");
        }
        var chain = GgufPreTokenizers.Chain(pre);
        Func<string, string>? nfc = pre.Nfc ? text => UnicodeNormalization.Normalize(text, compatibility: false, compose: true) : null;
        var tokenizer = new HfTokenizer(new AddedTokenSplitter(added), nfc, chain, bpe);
        return new TokenizerCore(tokenizer.Encode, table, FileBos: null, FileEos: [], DefaultAddBos: false)
        {
            ByteLevelBpe = new ByteLevelBpeSpec(vocab, merges, added, ByteLevelBpeSpec.PatternsOf(chain)),
        };
    }

    // SentencePiece BPE merges the adjacent pair whose union is the highest-scoring piece. The same
    // result comes from BPE over the merges "left right" for every piece's splits into two pieces,
    // ranked by the piece's score (pieces in id order, splits by the ids of their halves): the
    // ranking Hugging Face's converter gives Llama's tokenizer.json.
    private static TokenizerCore SentencePieceBpe(GgufFile file, string[] tokens, GgufTokenType[] types)
    {
        float[] scores = file.Optional<float[]>(Prefix + "scores") ?? new float[tokens.Length];
        if (scores.Length != tokens.Length) throw Error(file, $"'{Prefix}scores' has {scores.Length} entries for {tokens.Length} tokens");
        bool spacePrefix = file.Optional<bool?>(Prefix + "add_space_prefix") ?? true;

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++) ids.TryAdd(tokens[id], id);
        var merges = new List<(string Left, string Right, float Score)>();
        for (int id = 0; id < tokens.Length; id++)
        {
            if (types[id] != GgufTokenType.Normal) continue;
            string piece = tokens[id];
            var local = new List<(int L, int R, string Left, string Right)>();
            for (int i = 1; i < piece.Length; i++)
                if (ids.TryGetValue(piece[..i], out int l) && ids.TryGetValue(piece[i..], out int r))
                    local.Add((l, r, piece[..i], piece[i..]));
            foreach (var m in local.OrderBy(m => m.L).ThenBy(m => m.R)) merges.Add((m.Left, m.Right, scores[id]));
        }
        var ranked = merges.OrderByDescending(m => m.Score).Select(m => (m.Left, m.Right)).ToList();  // OrderBy is stable

        var added = AddedTokens(tokens, types);
        int unknown = Array.IndexOf(types, GgufTokenType.Unknown);
        foreach (var t in added) ids[t.Content] = t.Id;
        if (unknown >= 0) added.Add(new AddedToken(tokens[unknown], unknown, Special: true));
        var bpe = new BpeModel(ids, ranked, unknown, fuseUnknown: true, byteFallback: true, ignoreMerges: false);
        Func<string, string> normalize = spacePrefix ? text => "\u2581" + text.Replace(' ', '\u2581') : text => text.Replace(' ', '\u2581');
        var tokenizer = new HfTokenizer(new AddedTokenSplitter(added), normalize, null, bpe);

        var table = new TokenTable(tokens.Length, leadingSpaces: spacePrefix ? 1 : 0);
        for (int id = 0; id < tokens.Length; id++)
        {
            string text = tokens[id];
            byte[] bytes = types[id] switch
            {
                GgufTokenType.Control or GgufTokenType.Unknown or GgufTokenType.Unused => [],
                GgufTokenType.Byte when text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
                    && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b) => [b],
                GgufTokenType.Byte => throw Error(file, $"byte token {id} is \"{text}\", expected <0xXX>"),
                _ => Encoding.UTF8.GetBytes(text.Replace('\u2581', ' ')),
            };
            table.Set(id, text, bytes, strippable: types[id] is GgufTokenType.Normal or GgufTokenType.UserDefined);
        }
        return new TokenizerCore(tokenizer.Encode, table, FileBos: null, FileEos: [], DefaultAddBos: true);
    }
}
