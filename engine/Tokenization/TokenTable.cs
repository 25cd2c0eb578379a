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
    private readonly bool[] _strippable;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    /// <param name="leadingSpaces">
    /// Spaces the decoded output loses at its very start: SentencePiece's add_dummy_prefix (or a Metaspace
    /// pre-tokenizer) put a space before the first word when encoding, and decoding removes it again.
    /// </param>
    public TokenTable(int count, int leadingSpaces = 0)
    {
        _texts = new string?[count];
        _bytes = new byte[]?[count];
        _strippable = new bool[count];
        LeadingSpaces = leadingSpaces;
    }

    public int Count => _texts.Length;
    public int LeadingSpaces { get; }

    /// <param name="bytes">What the id decodes to; empty for control tokens that produce no text.</param>
    /// <param name="strippable">Whether the leading spaces may be taken from this id's bytes.</param>
    public void Set(int id, string text, byte[] bytes, bool strippable = false)
    {
        _texts[id] = text;
        _bytes[id] = bytes;
        _strippable[id] = strippable;
        _ids[text] = id;
    }

    public bool TryGetId(string text, out int id) => _ids.TryGetValue(text, out id);

    public string Text(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be in [0, {_texts.Length}).");
        return _texts[id] ?? string.Empty;
    }

    /// <summary>
    /// The bytes for <paramref name="id"/> in a stream that still has to lose <paramref name="spacesToStrip"/>
    /// leading spaces (start a stream with <see cref="LeadingSpaces"/>); it drops to 0 once any output exists.
    /// </summary>
    public ReadOnlySpan<byte> DecodeBytes(int id, ref int spacesToStrip)
    {
        // Ids past the tokenizer (models often pad their embedding rows) still decode to something visible.
        byte[] bytes = (uint)id < (uint)_bytes.Length ? _bytes[id] ?? s_replacement : s_replacement;
        if (bytes.Length == 0) return bytes;
        int skip = 0;
        if (spacesToStrip > 0 && (uint)id < (uint)_strippable.Length && _strippable[id])
        {
            while (skip < bytes.Length && spacesToStrip > 0 && bytes[skip] == (byte)' ')
            {
                skip++;
                spacesToStrip--;
            }
        }
        if (skip < bytes.Length) spacesToStrip = 0;
        return bytes.AsSpan(skip);
    }
}
