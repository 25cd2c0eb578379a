using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using DistillSpec.IO;

namespace DistillSpec.Tokenization;

/// <summary>Saves tokenizers in the Hugging Face model-directory layout so that HF tools and TextTokenizer.Load both read them.</summary>
public static class HfTokenizerFiles
{
    private static readonly JsonWriterOptions s_indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes vocab.json + merges.txt (GPT-2 layout), tokenizer.json (same model for HF fast tokenizers) and
    /// tokenizer_config.json. Special tokens already in <paramref name="tokens"/> keep their id; the others are
    /// appended after the last token. The first special token serves as BOS and EOS, as GPT-2's &lt;|endoftext|&gt; does,
    /// and the config carries <see cref="Chat.ChatTemplate.DefaultSource"/> as its chat template.
    /// </summary>
    /// <param name="tokens">Token strings in id order, in the GPT-2 byte-to-unicode alphabet.</param>
    /// <param name="merges">Merge rules, highest priority first; both parts and their concatenation must be tokens.</param>
    public static void WriteByteLevelBpe(string dir, IReadOnlyList<string> tokens,
        IReadOnlyList<(string, string)> merges, IReadOnlyList<string> specialTokens)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++)
        {
            if (!vocab.TryAdd(tokens[id], id))
                throw new ArgumentException($"Token '{tokens[id]}' appears twice (ids {vocab[tokens[id]]} and {id}).", nameof(tokens));
        }
        foreach (var (left, right) in merges)
        {
            // merges.txt separates the two parts with a space, so parts must not contain one.
            if (left.Contains(' ') || right.Contains(' ') || !vocab.ContainsKey(left) || !vocab.ContainsKey(right) || !vocab.ContainsKey(left + right))
                throw new ArgumentException($"Merge ('{left}', '{right}') needs both parts and their concatenation in the vocabulary, without spaces.", nameof(merges));
        }
        var special = new List<(string Content, int Id)>();
        foreach (string s in specialTokens.Distinct())
        {
            if (!vocab.TryGetValue(s, out int id)) vocab[s] = id = vocab.Count;
            special.Add((s, id));
        }

        Directory.CreateDirectory(dir);
        WriteJson(Path.Combine(dir, "vocab.json"), s_compact, w => WriteVocab(w, vocab));
        AtomicFile.WriteAllText(Path.Combine(dir, "merges.txt"),
            "#version: 0.2\n" + string.Concat(merges.Select(m => m.Item1 + " " + m.Item2 + "\n")));
        WriteJson(Path.Combine(dir, "tokenizer.json"), s_indented, w => WriteTokenizerJson(w, vocab, merges, special));
        WriteJson(Path.Combine(dir, "tokenizer_config.json"), s_indented, w => WriteTokenizerConfig(w, special));
    }

    private static void WriteTokenizerJson(Utf8JsonWriter w, Dictionary<string, int> vocab,
        IReadOnlyList<(string, string)> merges, List<(string Content, int Id)> special)
    {
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (content, id) in special)
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        WriteByteLevelComponent(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true);
        WriteByteLevelComponent(w, "post_processor", addPrefixSpace: true, trimOffsets: false);
        WriteByteLevelComponent(w, "decoder", addPrefixSpace: true, trimOffsets: true);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WritePropertyName("vocab");
        WriteVocab(w, vocab);
        // "a b" strings rather than pairs: every tokenizers release reads them.
        w.WriteStartArray("merges");
        foreach (var (left, right) in merges) w.WriteStringValue(left + " " + right);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteByteLevelComponent(Utf8JsonWriter w, string name, bool addPrefixSpace, bool trimOffsets)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter w, List<(string Content, int Id)> special)
    {
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", false);
        w.WriteBoolean("add_prefix_space", false);
        w.WriteStartObject("added_tokens_decoder");
        foreach (var (content, id) in special)
        {
            w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", content);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        if (special.Count > 0)
        {
            w.WriteString("bos_token", special[0].Content);
            w.WriteString("eos_token", special[0].Content);
            w.WriteString("unk_token", special[0].Content);
            // Chat prompts need a template; ours ends each turn with the EOS token, the only special token here.
            w.WriteString("chat_template", Chat.ChatTemplate.DefaultSource);
        }
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("tokenizer_class", "GPT2Tokenizer");
        w.WriteEndObject();
    }

    private static void WriteVocab(Utf8JsonWriter w, Dictionary<string, int> vocab)
    {
        w.WriteStartObject();
        foreach (var (token, id) in vocab.OrderBy(p => p.Value)) w.WriteNumber(token, id);
        w.WriteEndObject();
    }

    private static void WriteJson(string path, JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, options);
            write(writer);
        });
    }
}
