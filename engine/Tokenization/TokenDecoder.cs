using System.Globalization;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// The tokenizer.json "decoder" section split into what depends on one token (its bytes, so that streaming and
/// whole-sequence decoding agree) and what depends on the whole output (characters stripped at its start or end).
/// </summary>
internal sealed class TokenDecoder
{
    private readonly List<Func<string, string>> _textSteps = [];
    private Func<string, bool, byte[]>? _toBytes;
    private readonly List<Func<byte[], byte[]>> _byteSteps = [];
    private bool _fused;

    private TokenDecoder() { }

    /// <summary>How many leading spaces the whole output loses (Strip after Fuse, Metaspace's prefix space).</summary>
    public int LeadingSpaces { get; private set; }
    /// <summary>How many trailing spaces the whole output loses.</summary>
    public int TrailingSpaces { get; private set; }

    /// <param name="isAdded">Added tokens are already plain text, which a ByteLevel decoder leaves alone.</param>
    public byte[] Bytes(string token, bool isAdded)
    {
        foreach (var step in _textSteps) token = step(token);
        byte[] bytes = _toBytes is null ? Encoding.UTF8.GetBytes(token) : _toBytes(token, isAdded);
        foreach (var step in _byteSteps) bytes = step(bytes);
        return bytes;
    }

    public static TokenDecoder Create(JsonSection root)
    {
        var decoder = new TokenDecoder();
        decoder.Add(root.OptionalObject("decoder") ?? throw root.Unsupported("a tokenizer without a \"decoder\" section"));
        return decoder;
    }

    private void Add(JsonSection n)
    {
        switch (n.Type)
        {
            case "Sequence":
                foreach (JsonSection child in n.Objects("decoders")) Add(child);
                break;
            case "ByteLevel":
                SetBytes(n, (token, isAdded) => isAdded ? Encoding.UTF8.GetBytes(token) : ByteUnicodeMap.TokenToBytes(token));
                break;
            case "ByteFallback":
                SetBytes(n, (token, _) => ByteToken(token) is byte b ? [b] : Encoding.UTF8.GetBytes(token));
                break;
            case "Fuse":
                _fused = true;
                break;
            case "Replace":
                if (_toBytes is not null) throw n.Unsupported("a Replace decoder after a byte-producing decoder");
                JsRegex pattern = n.Pattern("pattern");
                string content = n.String("content");
                _textSteps.Add(token => pattern.Replace(token, content));
                break;
            case "Metaspace":
                if (_toBytes is not null) throw n.Unsupported("a Metaspace decoder after a byte-producing decoder");
                string replacement = n.OptionalString("replacement") ?? "\u2581";
                _textSteps.Add(token => token.Replace(replacement, " ", StringComparison.Ordinal));
                // The space the pre-tokenizer put in front of the text comes off the first token again.
                if (MetaspaceStep.Prepends(n)) LeadingSpaces = Math.Max(LeadingSpaces, 1);
                break;
            case "Strip":
                string strip = n.String("content");
                int start = n.Int("start", 0), stop = n.Int("stop", 0);
                if (strip != " ") throw n.Unsupported($"a Strip decoder with content \"{strip}\" (only \" \")");
                if (_fused)
                {
                    LeadingSpaces += start;
                    TrailingSpaces += stop;
                }
                else if (_toBytes is null)
                {
                    _textSteps.Add(token => StripSpaces(token, start, stop));
                }
                else
                {
                    _byteSteps.Add(bytes => Encoding.UTF8.GetBytes(StripSpaces(Encoding.UTF8.GetString(bytes), start, stop)));
                }
                break;
            case var other:
                throw n.Unsupported($"decoder type \"{other}\"");
        }
    }

    private void SetBytes(JsonSection n, Func<string, bool, byte[]> toBytes)
    {
        if (_toBytes is not null) throw n.Unsupported("two byte-producing decoders (ByteLevel and ByteFallback) in one sequence");
        _toBytes = toBytes;
    }

    private static byte? ByteToken(string token) =>
        token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
        && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b) ? b : null;

    private static string StripSpaces(string token, int start, int stop)
    {
        int from = 0, to = token.Length;
        while (from < start && from < to && token[from] == ' ') from++;
        while (token.Length - to < stop && to > from && token[to - 1] == ' ') to--;
        return token[from..to];
    }
}
