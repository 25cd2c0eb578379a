using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// Turns generated ids into text one at a time. A multi-byte character split across byte tokens is held
/// back until its last byte arrives, so callers never print half a character.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly TokenTable _table;
    // System.Text.Decoder keeps incomplete UTF-8 tails between calls and replaces invalid sequences the same
    // way Encoding.UTF8.GetString does, which keeps streaming output identical to TextTokenizer.Decode.
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();
    private int _spacesToStrip;

    internal StreamingDecoder(TokenTable table)
    {
        _table = table;
        _spacesToStrip = table.LeadingSpaces;
    }

    /// <summary>Returns the text completed by <paramref name="id"/>; empty while a character is still incomplete.</summary>
    public string Append(int id) => Convert(_table.DecodeBytes(id, ref _spacesToStrip), flush: false);

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush() => Convert(ReadOnlySpan<byte>.Empty, flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Each byte yields at most one UTF-16 unit; the held-back tail adds at most a few more.
        Span<char> chars = bytes.Length <= 252 ? stackalloc char[bytes.Length + 4] : new char[bytes.Length + 4];
        int n = _utf8.GetChars(bytes, chars, flush);
        return n == 0 ? string.Empty : new string(chars[..n]);
    }
}
