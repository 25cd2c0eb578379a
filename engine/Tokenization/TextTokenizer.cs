using System.Buffers;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// A model directory's tokenizer (byte-level BPE or SentencePiece) plus the BOS/EOS conventions from its config files.
/// Special tokens (BPE added tokens marked special, SentencePiece control pieces) decode to no text; their
/// vocabulary strings remain available through <see cref="TokenText"/>.
/// </summary>
public sealed class TextTokenizer
{
    private const string TokenizerJson = "tokenizer.json", VocabJson = "vocab.json", MergesTxt = "merges.txt", SentencePieceModel = "tokenizer.model";

    private readonly Func<string, IReadOnlyList<int>> _encode;
    private readonly TokenTable _table;
    private readonly int[] _eosIds;

    private TextTokenizer(TokenizerCore core, int? bosId, int[] eosIds, bool addBos)
    {
        _encode = core.Encode;
        _table = core.Table;
        BosId = bosId;
        _eosIds = eosIds;
        AddBos = addBos;
    }

    /// <summary>Number of ids, added tokens included (the highest id plus one).</summary>
    public int VocabSize => _table.Count;
    public int? BosId { get; }
    public IReadOnlyList<int> EosIds => _eosIds;
    /// <summary>Whether prompts for this model conventionally start with BOS.</summary>
    public bool AddBos { get; }

    /// <summary>
    /// Looks for tokenizer.json, then vocab.json + merges.txt, then tokenizer.model. A tokenizer.json that is
    /// not byte-level BPE (Llama-2 and Mistral ship a SentencePiece-style one) is passed over for the next layout.
    /// </summary>
    public static TextTokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"Model directory '{modelDirectory}' does not exist.");
        Models.ModelFiles.EnsureTokenizerFilesInside(modelDirectory);

        TokenizerCore core = LoadCore(modelDirectory);
        var (configBos, configEos) = HfConfigFiles.ReadConfiguredIds(modelDirectory);
        var (configAddBos, bosName, eosName) = HfConfigFiles.ReadTokenizerConfig(modelDirectory);

        int? bos = configBos ?? IdOf(core.Table, bosName) ?? core.FallbackBos;
        int[] eos = configEos ?? (IdOf(core.Table, eosName) is int e ? [e] : core.FallbackEos);
        return new TextTokenizer(core, bos, eos, configAddBos ?? core.DefaultAddBos);
    }

    private static TokenizerCore LoadCore(string dir)
    {
        string tokenizerJson = Path.Combine(dir, TokenizerJson);
        string vocab = Path.Combine(dir, VocabJson), merges = Path.Combine(dir, MergesTxt);
        string spModel = Path.Combine(dir, SentencePieceModel);
        string? skipped = null;

        if (File.Exists(tokenizerJson))
        {
            // Guard: a file of the wrong shape is reported as an error naming it, not as a bare JsonElement exception.
            var (spec, reason) = IO.JsonFile.Guard(tokenizerJson, () => (HfTokenizerJson.TryReadByteLevelBpe(tokenizerJson, out string why), why));
            if (spec is not null) return IO.JsonFile.Guard(tokenizerJson, () => ByteLevelBpeLoader.Create(TokenIdCheck.Checked(spec, tokenizerJson)));
            skipped = $"{tokenizerJson} was skipped because {reason}";
        }
        if (File.Exists(vocab) && File.Exists(merges))
            return IO.JsonFile.Guard(vocab, () => ByteLevelBpeLoader.Create(TokenIdCheck.Checked(HfVocabMergesFiles.Read(vocab, merges, HfConfigFiles.ReadAddedTokens(dir)), vocab)));
        if (File.Exists(spModel))
            return SentencePieceLoader.Create(File.ReadAllBytes(spModel), HfConfigFiles.ReadAddedTokens(dir));

        throw new FileNotFoundException(
            $"No supported tokenizer in '{dir}': looked for {TokenizerJson} (byte-level BPE), {VocabJson} + {MergesTxt}, " +
            $"and {SentencePieceModel}." + (skipped is null ? "" : $" {skipped}."));
    }

    private static int? IdOf(TokenTable table, string? token) =>
        token is not null && table.TryGetId(token, out int id) ? id : null;

    /// <param name="addBos">Prepends BOS, but only when the model has one.</param>
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        IReadOnlyList<int> ids = _encode(text);
        int offset = addBos && BosId is not null ? 1 : 0;
        var result = new int[ids.Count + offset];
        if (offset == 1) result[0] = BosId!.Value;
        for (int i = 0; i < ids.Count; i++) result[i + offset] = ids[i];
        return result;
    }

    /// <summary>Invalid or incomplete UTF-8 (e.g. a lone byte token) becomes U+FFFD; unknown ids become U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        bool atStart = true;
        foreach (int id in ids) bytes.Write(_table.DecodeBytes(id, ref atStart));
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    /// <summary>The raw vocabulary string: "Ġthe" for byte-level BPE, "▁the" or "&lt;0xE2&gt;" for SentencePiece.</summary>
    public string TokenText(int id) => _table.Text(id);

    public bool IsEos(int id) => Array.IndexOf(_eosIds, id) >= 0;

    public StreamingDecoder CreateStreamingDecoder() => new(_table);
}
