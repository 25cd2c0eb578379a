using System.Buffers;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// A model directory's tokenizer (tokenizer.json, GPT-2 vocab.json + merges.txt, or a SentencePiece tokenizer.model)
/// plus the BOS/EOS conventions from its config files. Special tokens decode to no text; their vocabulary strings
/// remain available through <see cref="TokenText"/>.
/// </summary>
public sealed class TextTokenizer
{
    private const string TokenizerJson = "tokenizer.json", VocabJson = "vocab.json", MergesTxt = "merges.txt", SentencePieceModel = "tokenizer.model";

    private readonly Action<string, List<int>> _encode;
    private readonly TokenTable _table;
    private readonly int[] _eosIds;
    private readonly int[] _specialPrefix, _specialSuffix;
    private readonly int _trailingSpaces;
    private readonly bool _cleanUpSpaces;

    private TextTokenizer(TokenizerCore core, int? bosId, int[] eosIds, bool addBos, bool cleanUpSpaces)
    {
        _encode = core.Encode;
        _table = core.Table;
        BosId = bosId;
        _eosIds = eosIds;
        AddBos = addBos;
        // Without a post-processor template, the special tokens of a sequence are the BOS convention.
        (_specialPrefix, _specialSuffix) = core.Template ?? (addBos && bosId is int b ? [b] : [], []);
        _trailingSpaces = core.TrailingSpaces;
        _cleanUpSpaces = cleanUpSpaces;
    }

    /// <summary>Number of ids, added tokens included (the highest id plus one).</summary>
    public int VocabSize => _table.Count;
    public int? BosId { get; }
    public IReadOnlyList<int> EosIds => _eosIds;
    /// <summary>Whether prompts for this model conventionally start with BOS.</summary>
    public bool AddBos { get; }

    /// <summary>
    /// Loads a GGUF file's tokenizer (its tokenizer.ggml.* metadata) when the path is a file. Otherwise
    /// loads tokenizer.json when the directory has one (and nothing else: an unsupported tokenizer.json is an error,
    /// not a reason to read other files); otherwise vocab.json + merges.txt, otherwise tokenizer.model.
    /// BOS and EOS come from config.json / generation_config.json, then tokenizer_config.json (where "bos_token": null
    /// means there is none), then what the tokenizer file itself declares; never from an ordinary vocabulary entry.
    /// </summary>
    /// <exception cref="Models.ModelFormatException">A tokenizer file is malformed or uses a feature that is not supported.</exception>
    public static TextTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (Formats.Gguf.GgufModel.IsGgufFile(modelDirectory)) return GgufTokenizer.Load(Formats.Gguf.GgufFile.Open(modelDirectory));
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"Model directory '{modelDirectory}' does not exist.");
        Models.ModelFiles.EnsureTokenizerFilesInside(modelDirectory);

        HfConfigFiles.TokenizerConfigValues config = HfConfigFiles.ReadTokenizerConfig(modelDirectory);
        TokenizerCore core = LoadCore(modelDirectory, config.AdditionalSpecialTokens);
        var (configBos, configEos) = HfConfigFiles.ReadConfiguredIds(modelDirectory);

        int? bos = configBos ?? (config.BosDeclared ? IdOf(core.Table, config.BosToken) : core.FileBos);
        int[] eos = configEos ?? (config.EosDeclared ? (IdOf(core.Table, config.EosToken) is int e ? [e] : []) : core.FileEos);
        bool addBos = bos is not null && (config.AddBos ?? core.DefaultAddBos);
        return new TextTokenizer(core, bos, eos, addBos, config.CleanUpSpaces ?? core.CleanUpSpacesByDefault);
    }

    /// <summary>A tokenizer whose BOS/EOS conventions come from elsewhere than a model directory (a GGUF file's metadata).</summary>
    internal static TextTokenizer Create(TokenizerCore core, int? bosId, int[] eosIds, bool addBos) =>
        new(core, bosId, eosIds, addBos, cleanUpSpaces: false);

    internal static TokenizerCore LoadCore(string dir, IReadOnlyList<string> additionalSpecialTokens)
    {
        string tokenizerJson = Path.Combine(dir, TokenizerJson);
        string vocab = Path.Combine(dir, VocabJson), merges = Path.Combine(dir, MergesTxt);
        string spModel = Path.Combine(dir, SentencePieceModel);

        if (File.Exists(tokenizerJson)) return HfTokenizerJson.Read(tokenizerJson, additionalSpecialTokens);
        if (File.Exists(vocab) && File.Exists(merges))
            return HfVocabMergesFiles.Read(vocab, merges, HfConfigFiles.ReadAddedTokens(dir));
        if (File.Exists(spModel))
            return SentencePieceLoader.Create(File.ReadAllBytes(spModel), HfConfigFiles.ReadAddedTokens(dir));

        throw new FileNotFoundException(
            $"No supported tokenizer in '{dir}': looked for {TokenizerJson}, {VocabJson} + {MergesTxt}, and {SentencePieceModel}.");
    }

    private static int? IdOf(TokenTable table, string? token) =>
        token is not null && table.TryGetId(token, out int id) ? id : null;

    /// <param name="addBos">Prepends BOS, but only when the model has one.</param>
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addBos && BosId is int bos) ids.Add(bos);
        _encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>
    /// The ids with the special tokens the tokenizer's post-processor puts around a sequence (for example BOS in
    /// front for Llama 2 and Gemma 3, nothing for Qwen3), like the reference's add_special_tokens.
    /// </summary>
    public int[] EncodeWithSpecialTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        ids.AddRange(_specialPrefix);
        _encode(text, ids);
        ids.AddRange(_specialSuffix);
        return ids.ToArray();
    }

    /// <summary>
    /// Invalid or incomplete UTF-8 (e.g. a lone byte token) becomes U+FFFD; unknown ids become U+FFFD. With
    /// clean_up_tokenization_spaces the spaces before punctuation and contractions that tokenization introduced are
    /// removed, which only a whole-text decode can do (a <see cref="StreamingDecoder"/> leaves them).
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        int spacesToStrip = _table.LeadingSpaces;
        foreach (int id in ids) bytes.Write(_table.DecodeBytes(id, ref spacesToStrip));
        string text = Encoding.UTF8.GetString(bytes.WrittenSpan);
        for (int i = 0; i < _trailingSpaces && text.EndsWith(' '); i++) text = text[..^1];
        return _cleanUpSpaces ? CleanUpSpaces(text) : text;
    }

    /// <summary>Hugging Face's clean_up_tokenization, in its order.</summary>
    private static string CleanUpSpaces(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    /// <summary>The raw vocabulary string: "Ġthe" for byte-level BPE, "▁the" or "&lt;0xE2&gt;" for SentencePiece.</summary>
    public string TokenText(int id) => _table.Text(id);

    public bool IsEos(int id) => Array.IndexOf(_eosIds, id) >= 0;

    public StreamingDecoder CreateStreamingDecoder() => new(_table);
}
