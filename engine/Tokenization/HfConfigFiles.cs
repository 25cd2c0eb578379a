using System.Text.Json;
using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>The small JSON files next to a HF tokenizer that say which ids are special and how to use them.</summary>
internal static class HfConfigFiles
{
    public const string ModelConfig = "config.json";
    public const string GenerationConfig = "generation_config.json";
    public const string TokenizerConfig = "tokenizer_config.json";
    public const string AddedTokensFile = "added_tokens.json";

    /// <summary>BOS/EOS ids named by config.json, with generation_config.json taking precedence field by field.</summary>
    public static (int? Bos, int[]? Eos) ReadConfiguredIds(string dir)
    {
        var (bos, eos) = ReadIds(Path.Combine(dir, ModelConfig));
        var (genBos, genEos) = ReadIds(Path.Combine(dir, GenerationConfig));
        return (genBos ?? bos, genEos ?? eos);
    }

    /// <summary>
    /// What tokenizer_config.json says about special tokens. A token entry that is present but null ("bos_token": null)
    /// means the model has none, which is different from no entry at all.
    /// </summary>
    public sealed record TokenizerConfigValues(
        bool? AddBos, bool BosDeclared, string? BosToken, bool EosDeclared, string? EosToken,
        IReadOnlyList<string> AdditionalSpecialTokens, bool? CleanUpSpaces);

    public static TokenizerConfigValues ReadTokenizerConfig(string dir)
    {
        using JsonDocument? doc = TryParse(Path.Combine(dir, TokenizerConfig));
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object) return new(null, false, null, false, null, [], null);
        JsonElement root = doc.RootElement;
        var additional = new List<string>();
        if (root.TryGetProperty("additional_special_tokens", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement e in list.EnumerateArray())
                if (TokenName(e) is string name) additional.Add(name);
        }
        return new(Bool(root, "add_bos_token"),
            root.TryGetProperty("bos_token", out JsonElement bos), TokenName(bos),
            root.TryGetProperty("eos_token", out JsonElement eos), TokenName(eos),
            additional, Bool(root, "clean_up_tokenization_spaces"));
    }

    private static bool? Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>
    /// Added tokens of layouts without tokenizer.json: tokenizer_config.json's added_tokens_decoder (which
    /// records whether each is special) and the older added_tokens.json (which does not, so those count as plain text).
    /// </summary>
    public static List<AddedToken> ReadAddedTokens(string dir)
    {
        var byId = new Dictionary<int, AddedToken>();
        string legacyPath = Path.Combine(dir, AddedTokensFile);
        using (JsonDocument? legacy = TryParse(legacyPath))
        {
            if (legacy?.RootElement.ValueKind == JsonValueKind.Object)
                foreach (JsonProperty p in legacy.RootElement.EnumerateObject())
                {
                    int id = Id(p.Value, legacyPath, p.Name);
                    byId[id] = new AddedToken(p.Name, id, Special: false);
                }
        }
        string configPath = Path.Combine(dir, TokenizerConfig);
        using (JsonDocument? config = TryParse(configPath))
        {
            if (config is not null && config.RootElement.ValueKind == JsonValueKind.Object
                && config.RootElement.TryGetProperty("added_tokens_decoder", out JsonElement decoder) && decoder.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in decoder.EnumerateObject())
                {
                    string field = $"added_tokens_decoder.{p.Name}";
                    if (!int.TryParse(p.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                        throw new ModelFormatException(configPath, $"key of '{field}' must be a token id (a non-negative integer)");
                    if (p.Value.ValueKind != JsonValueKind.Object || !p.Value.TryGetProperty("content", out JsonElement content)
                        || content.ValueKind != JsonValueKind.String)
                        throw new ModelFormatException(configPath, $"field '{field}' must be an object with a string 'content'");
                    bool special = p.Value.TryGetProperty("special", out JsonElement s) && s.ValueKind == JsonValueKind.True;
                    byId[id] = new AddedToken(content.GetString()!, id, special);
                }
            }
        }
        return byId.Values.OrderBy(t => t.Id).ToList();
    }

    private static (int? Bos, int[]? Eos) ReadIds(string path)
    {
        using JsonDocument? doc = TryParse(path);
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object) return (null, null);
        JsonElement root = doc.RootElement;
        int[]? bos = ReadIdList(root, "bos_token_id", path);
        int[]? eos = ReadIdList(root, "eos_token_id", path);
        // Multimodal checkpoints keep the language model's ids one level down.
        if (root.TryGetProperty("text_config", out JsonElement text) && text.ValueKind == JsonValueKind.Object)
        {
            bos ??= ReadIdList(text, "bos_token_id", path);
            eos ??= ReadIdList(text, "eos_token_id", path);
        }
        return (bos is { Length: > 0 } ? bos[0] : null, eos is { Length: > 0 } ? eos : null);
    }

    private static int[]? ReadIdList(JsonElement obj, string name, string path) => obj.TryGetProperty(name, out JsonElement v)
        ? v.ValueKind switch
        {
            JsonValueKind.Number => [Id(v, path, name)],
            JsonValueKind.Array => v.EnumerateArray().Select(e => Id(e, path, name)).ToArray(),
            _ => null,
        }
        : null;

    // Token ids must be non-negative ints; a 1e20 or a "2" is an error naming the file and field, not a FormatException.
    private static int Id(JsonElement v, string path, string field) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int id) && id >= 0
            ? id
            : throw new ModelFormatException(path, $"field '{field}' must hold token ids (non-negative integers), got {v.GetRawText()}");

    /// <summary>A special token named in a tokenizer config: a plain string, or an AddedToken-style object with "content".</summary>
    internal static string? TokenName(JsonElement root, string name) => root.TryGetProperty(name, out JsonElement v) ? TokenName(v) : null;

    /// <summary>A token written as a string or as an AddedToken object ({"content": ...}).</summary>
    private static string? TokenName(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object when v.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String => c.GetString(),
        _ => null,
    };

    /// <summary>The parsed file, or null when it does not exist; malformed JSON is a ModelFormatException naming the file.</summary>
    internal static JsonDocument? TryParse(string path) => File.Exists(path) ? IO.JsonFile.Parse(path, IO.JsonFile.Lenient) : null;
}
