using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// Per-id vocabulary strings and the bytes each id decodes to. Decoding is done here rather than by
/// Microsoft.ML.Tokenizers so that byte tokens can be joined across ids (streaming) and invalid UTF-8
/// becomes U+FFFD instead of being dropped or throwing.
/// </summary>
internal sealed class TokenTable
{
    private static readonly byte[] s_replacement = Encoding.UTF8.GetBytes("\uFFFD");

    private readonly string?[] _texts;
    private readonly byte[]?[] _bytes;
    private readonly bool[] _dropsLeadingSpace;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public TokenTable(int count)
    {
        _texts = new string?[count];
        _bytes = new byte[]?[count];
        _dropsLeadingSpace = new bool[count];
    }

    public int Count => _texts.Length;

    /// <param name="bytes">What the id decodes to; empty for control tokens that produce no text.</param>
    /// <param name="dropsLeadingSpaceAtStart">
    /// SentencePiece's add_dummy_prefix puts a space before the first word when encoding; decoding removes it
    /// again, but only from a word piece at the very start of the output.
    /// </param>
    public void Set(int id, string text, byte[] bytes, bool dropsLeadingSpaceAtStart = false)
    {
        _texts[id] = text;
        _bytes[id] = bytes;
        _dropsLeadingSpace[id] = dropsLeadingSpaceAtStart && bytes.Length > 0 && bytes[0] == (byte)' ';
        _ids[text] = id;
    }

    public bool TryGetId(string text, out int id) => _ids.TryGetValue(text, out id);

    public string Text(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be in [0, {_texts.Length}).");
        return _texts[id] ?? string.Empty;
    }

    /// <summary>The bytes for <paramref name="id"/> in a stream whose output so far is empty iff <paramref name="atStart"/>.</summary>
    public ReadOnlySpan<byte> DecodeBytes(int id, ref bool atStart)
    {
        // Ids past the tokenizer (models often pad their embedding rows) still decode to something visible.
        byte[] bytes = (uint)id < (uint)_bytes.Length ? _bytes[id] ?? s_replacement : s_replacement;
        if (bytes.Length == 0) return bytes;
        bool drop = atStart && (uint)id < (uint)_dropsLeadingSpace.Length && _dropsLeadingSpace[id];
        atStart = false;
        return drop ? bytes.AsSpan(1) : bytes;
    }
}
