using System.Text.Json;
using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json: normalizer, pre-tokenizer, BPE or Unigram model, added tokens,
/// post-processor and decoder. Anything it cannot reproduce exactly is a <see cref="ModelFormatException"/>
/// naming the file, the section and the feature.
/// </summary>
internal static class HfTokenizerJson
{
    // Far above any real vocabulary (Gemma 3 has 262k); keeps a stray huge id from allocating gigabytes.

    /// <param name="extraSpecialTokens">tokenizer_config.json's additional_special_tokens, which decode to no text either.</param>
    public static TokenizerCore Read(string path, IReadOnlyCollection<string> extraSpecialTokens)
    {
        using (var doc = IO.JsonFile.Parse(path, new JsonDocumentOptions { AllowTrailingCommas = true }))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "expected a JSON object");
            var root = new JsonSection(doc.RootElement, path, "tokenizer");
            try
            {
                return Read(root, extraSpecialTokens);
            }
            catch (Exception e) when (e is InvalidOperationException or IndexOutOfRangeException or FormatException)
            {
                // A value of the wrong JSON kind or shape deep inside (a number where a string belongs, an empty pair).
                throw new ModelFormatException(path, $"unexpected content: {e.Message}");
            }
        }
    }

    private static TokenizerCore Read(JsonSection root, IReadOnlyCollection<string> extraSpecialTokens)
    {
        List<AddedToken> added = ReadAddedTokens(root);
        JsonSection model = root.Object("model");

        // Added tokens win over a vocabulary entry with the same text, as in the reference.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var texts = new List<(string Text, int Id)>();
        string type = model.OptionalString("type") ?? (model.Element.TryGetProperty("vocab", out JsonElement v) && v.ValueKind == JsonValueKind.Array ? "Unigram"
            : model.Has("merges") ? "BPE" : "unknown");
        ITokenModel tokenModel = type switch
        {
            "BPE" => ReadBpe(model, ids, texts, added),
            "Unigram" => ReadUnigram(model, ids, texts, added),
            _ => throw model.Unsupported($"model type \"{type}\""),
        };

        PreTokenizerChain? preTokenizer = PreTokenizerChain.Create(root.OptionalObject("pre_tokenizer"));
        var tokenizer = new HfTokenizer(new AddedTokenSplitter(added), TextNormalizers.Create(root.OptionalObject("normalizer")), preTokenizer, tokenModel);
        TokenDecoder decoder = TokenDecoder.Create(root);
        (int[] prefix, int[] suffix) = ReadPostProcessor(root.OptionalObject("post_processor"), ids);

        int count = TokenIdCheck.Count(texts, added, root.File);
        var table = new TokenTable(count, decoder.LeadingSpaces);
        foreach (var (text, id) in texts) table.Set(id, text, decoder.Bytes(text, isAdded: false), strippable: true);
        var special = new HashSet<string>(extraSpecialTokens, StringComparer.Ordinal);
        foreach (AddedToken t in added)
            table.Set(t.Id, t.Content, t.Special || special.Contains(t.Content) ? [] : decoder.Bytes(t.Content, isAdded: true), strippable: true);

        return new TokenizerCore(tokenizer.Encode, table,
            prefix.Length > 0 ? prefix[0] : null,
            suffix.Length > 0 ? [suffix[^1]] : [],
            DefaultAddBos: prefix.Length > 0)
        {
            Template = (prefix, suffix),
            TrailingSpaces = decoder.TrailingSpaces,
            CleanUpSpacesByDefault = true,
            ByteLevelBpe = tokenModel is BpeModel bpe && preTokenizer is not null && preTokenizer.Steps.Any(s => s is ByteLevelStep)
                ? new ByteLevelBpeSpec(texts.ToDictionary(t => t.Text, t => t.Id), bpe.Merges, added, ByteLevelBpeSpec.PatternsOf(preTokenizer))
                : null,
        };
    }

    private static List<AddedToken> ReadAddedTokens(JsonSection root)
    {
        var added = new List<AddedToken>();
        if (!root.Has("added_tokens")) return added;
        foreach (JsonSection t in root.Objects("added_tokens"))
        {
            // single_word needs word-boundary checks the reference does not make either; normalized tokens are
            // matched in the raw text by the reference, which is what happens here too.
            if (t.Bool("single_word", false)) throw t.Unsupported("an added token with single_word");
            added.Add(new AddedToken(t.String("content"), t.Int("id", -1) is int id && id >= 0 ? id : throw t.Error("id", "a non-negative integer"),
                t.Bool("special", false), t.Bool("lstrip", false), t.Bool("rstrip", false)));
        }
        return added;
    }

    private static BpeModel ReadBpe(JsonSection model, Dictionary<string, int> ids, List<(string, int)> texts, List<AddedToken> added)
    {
        if (model.Has("dropout"))
        {
            JsonElement dropout = model.Element.GetProperty("dropout");
            if (dropout.ValueKind != JsonValueKind.Number) throw model.Error("dropout", "a number or null");
            if (dropout.GetDouble() != 0) throw model.Unsupported("BPE dropout");
        }
        if (!string.IsNullOrEmpty(model.OptionalString("continuing_subword_prefix"))) throw model.Unsupported("a BPE continuing_subword_prefix");
        if (!string.IsNullOrEmpty(model.OptionalString("end_of_word_suffix"))) throw model.Unsupported("a BPE end_of_word_suffix");
        JsonSection vocab = model.Object("vocab");
        foreach (JsonProperty p in vocab.Element.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw vocab.Error(p.Name, "a non-negative integer id");
            // JSON allows a repeated key; which id it then means is unclear, so it is refused.
            if (!ids.TryAdd(p.Name, id)) throw vocab.Error(p.Name, "one entry per token, not a key repeated");
            texts.Add((p.Name, id));
        }
        foreach (AddedToken t in added) ids[t.Content] = t.Id;

        var merges = new List<(string, string)>();
        int i = 0;
        foreach (JsonElement m in model.Array("merges").EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else if (m.ValueKind == JsonValueKind.String && m.GetString()!.Split(' ') is [var left, var right, ..])
                merges.Add((left, right));
            else
                throw model.Error($"merges[{i}]", "\"left right\" or [\"left\", \"right\"]");
            i++;
        }

        string? unk = model.OptionalString("unk_token");
        int unkId = unk is not null && ids.TryGetValue(unk, out int u) ? u : -1;
        try
        {
            return new BpeModel(ids, merges, unkId, model.Bool("fuse_unk", false), model.Bool("byte_fallback", false), model.Bool("ignore_merges", false));
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(model.File, $"{model.Where}: {e.Message}");
        }
    }

    private static UnigramModel ReadUnigram(JsonSection model, Dictionary<string, int> ids, List<(string, int)> texts, List<AddedToken> added)
    {
        if (model.Bool("byte_fallback", false)) throw model.Unsupported("Unigram byte_fallback");
        var vocab = new List<(string, double)>();
        int i = 0;
        foreach (JsonElement e in model.Array("vocab").EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2 || e[0].ValueKind != JsonValueKind.String || e[1].ValueKind != JsonValueKind.Number)
                throw model.Error($"vocab[{i}]", "[\"piece\", score]");
            vocab.Add((e[0].GetString()!, e[1].GetDouble()));
            ids[e[0].GetString()!] = i;
            texts.Add((e[0].GetString()!, i));
            i++;
        }
        int unkId = model.Int("unk_id", -1);
        if (unkId < 0 || unkId >= vocab.Count) throw model.Error("unk_id", $"the id of the unknown piece in [0, {vocab.Count})");
        foreach (AddedToken t in added) ids[t.Content] = t.Id;
        return new UnigramModel(vocab, unkId);
    }

    /// <summary>The ids the post-processor puts before and after a single sequence.</summary>
    private static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonSection? section, Dictionary<string, int> ids)
    {
        if (section is not JsonSection n) return ([], []);
        int Id(string field, string token) =>
            ids.TryGetValue(token, out int id) ? id : throw n.Error(field, $"a token of the vocabulary (\"{token}\" is not one)");
        switch (n.Type)
        {
            case "ByteLevel":
                return ([], []);
            case "TemplateProcessing":
                var prefix = new List<int>();
                var suffix = new List<int>();
                bool seenSequence = false;
                foreach (JsonSection item in n.Objects("single"))
                {
                    if (item.OptionalObject("SpecialToken") is JsonSection special)
                        (seenSequence ? suffix : prefix).Add(Id("single", special.String("id")));
                    else if (item.OptionalObject("Sequence") is not null)
                        seenSequence = true;
                    else
                        throw item.Error("SpecialToken", "a SpecialToken or Sequence item");
                }
                return (prefix.ToArray(), suffix.ToArray());
            case "BertProcessing" or "RobertaProcessing":
                string Token(string field) => n.Array(field) is var pair && pair.GetArrayLength() == 2 && pair[0].ValueKind == JsonValueKind.String
                    ? pair[0].GetString()! : throw n.Error(field, "[\"token\", id]");
                return ([Id("cls", Token("cls"))], [Id("sep", Token("sep"))]);
            case "Sequence":
                int[] before = [], after = [];
                foreach (JsonSection p in n.Objects("processors"))
                {
                    var (pre, post) = ReadPostProcessor(p, ids);
                    before = [.. pre, .. before];
                    after = [.. after, .. post];
                }
                return (before, after);
            case var other:
                throw n.Unsupported($"post-processor type \"{other}\"");
        }
    }
}
