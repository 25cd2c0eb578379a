using System.Text.Json;
using System.Text.RegularExpressions;

namespace DistillSpec.Tokenization;

/// <summary>Reads byte-level BPE models from Hugging Face tokenizer.json files.</summary>
internal static class HfTokenizerJson
{
    /// <summary>
    /// Null (with the reason) when the file holds something other than byte-level BPE, e.g. the
    /// SentencePiece-style BPE (metaspace + byte fallback) that Llama-2 and Mistral ship next to tokenizer.model.
    /// </summary>
    public static ByteLevelBpeSpec? TryReadByteLevelBpe(string path, out string reason)
    {
        using var doc = IO.JsonFile.Parse(path, new JsonDocumentOptions { AllowTrailingCommas = true });
        JsonElement root = doc.RootElement;
        if (!root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
        {
            reason = "it has no \"model\" section";
            return null;
        }
        string modelType = GetString(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE" : "unknown");
        if (modelType != "BPE")
        {
            reason = $"its model type is {modelType}";
            return null;
        }
        root.TryGetProperty("pre_tokenizer", out JsonElement preTokenizer);
        root.TryGetProperty("decoder", out JsonElement decoder);
        if (!ContainsType(preTokenizer, "ByteLevel") && !ContainsType(decoder, "ByteLevel"))
        {
            reason = "its BPE model is not byte-level (no ByteLevel pre-tokenizer or decoder)";
            return null;
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in model.GetProperty("vocab").EnumerateObject())
            vocab[p.Name] = p.Value.GetInt32();

        var merges = new List<string>();
        if (model.TryGetProperty("merges", out JsonElement mergeArray))
        {
            foreach (JsonElement m in mergeArray.EnumerateArray())
                merges.Add(m.ValueKind == JsonValueKind.Array ? JoinPair(m) : m.GetString()!);
        }

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement addedArray) && addedArray.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement t in addedArray.EnumerateArray())
            {
                bool special = t.TryGetProperty("special", out JsonElement s) && s.ValueKind == JsonValueKind.True;
                added.Add(new AddedToken(t.GetProperty("content").GetString()!, t.GetProperty("id").GetInt32(), special));
            }
        }

        var splits = new List<Regex>();
        AddSplits(preTokenizer, splits);
        root.TryGetProperty("post_processor", out JsonElement postProcessor);

        reason = "";
        return new ByteLevelBpeSpec
        {
            Vocab = vocab,
            Merges = merges,
            AddedTokens = added,
            Splits = splits,
            TemplateBosId = FindTemplateBos(postProcessor, vocab, added),
        };
    }

    private static string JoinPair(JsonElement pair)
    {
        string left = pair[0].GetString()!, right = pair[1].GetString()!;
        // The library takes merges as "left right" lines; byte-level tokens never contain a real space.
        if (left.Contains(' ') || right.Contains(' '))
            throw new NotSupportedException($"Merge (\"{left}\", \"{right}\") contains a space, which byte-level BPE tokens cannot.");
        return left + " " + right;
    }

    private static void AddSplits(JsonElement node, List<Regex> splits)
    {
        if (node.ValueKind != JsonValueKind.Object) return;
        switch (GetString(node, "type"))
        {
            case "Sequence":
                foreach (JsonElement child in node.GetProperty("pretokenizers").EnumerateArray())
                    AddSplits(child, splits);
                break;
            case "ByteLevel":
                bool useRegex = !node.TryGetProperty("use_regex", out JsonElement u) || u.ValueKind != JsonValueKind.False;
                if (useRegex) splits.Add(HfPreTokenizer.CreateSplit(HfPreTokenizer.Gpt2Pattern));
                break;
            case "Split":
                string behavior = GetString(node, "behavior") ?? "Isolated";
                if (behavior != "Isolated")
                    throw new NotSupportedException($"Split pre-tokenizer behavior '{behavior}' is not supported (only Isolated).");
                JsonElement pattern = node.GetProperty("pattern");
                string regex = pattern.TryGetProperty("Regex", out JsonElement r) ? r.GetString()!
                    : Regex.Escape(pattern.GetProperty("String").GetString()!);
                try { splits.Add(HfPreTokenizer.CreateSplit(regex)); }
                catch (ArgumentException e) { throw new NotSupportedException($"Split pattern is not a valid .NET regex: {regex}", e); }
                break;
            case "Digits":
                bool individual = node.TryGetProperty("individual_digits", out JsonElement d) && d.ValueKind == JsonValueKind.True;
                splits.Add(HfPreTokenizer.CreateSplit(individual ? @"\p{N}" : @"\p{N}+"));
                break;
            case var other:
                throw new NotSupportedException($"Pre-tokenizer type '{other}' is not supported for byte-level BPE.");
        }
    }

    private static int? FindTemplateBos(JsonElement node, Dictionary<string, int> vocab, List<AddedToken> added)
    {
        if (node.ValueKind != JsonValueKind.Object) return null;
        string? type = GetString(node, "type");
        if (type == "Sequence" && node.TryGetProperty("processors", out JsonElement processors))
        {
            foreach (JsonElement p in processors.EnumerateArray())
                if (FindTemplateBos(p, vocab, added) is int id) return id;
            return null;
        }
        if (type != "TemplateProcessing" || !node.TryGetProperty("single", out JsonElement single)
            || single.GetArrayLength() == 0 || !single[0].TryGetProperty("SpecialToken", out JsonElement first))
            return null;
        string name = first.GetProperty("id").GetString()!;
        if (node.TryGetProperty("special_tokens", out JsonElement specials) && specials.TryGetProperty(name, out JsonElement entry)
            && entry.TryGetProperty("ids", out JsonElement ids) && ids.GetArrayLength() > 0)
            return ids[0].GetInt32();
        foreach (AddedToken t in added)
            if (t.Content == name) return t.Id;
        return vocab.TryGetValue(name, out int vocabId) ? vocabId : null;
    }

    private static bool ContainsType(JsonElement node, string type) => node.ValueKind switch
    {
        JsonValueKind.Object => node.EnumerateObject().Any(p =>
            (p.Name == "type" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() == type) || ContainsType(p.Value, type)),
        JsonValueKind.Array => node.EnumerateArray().Any(e => ContainsType(e, type)),
        _ => false,
    };

    internal static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
