namespace DistillSpec.Tokenization;

/// <summary>
/// The GPT-2 byte-level alphabet: every byte maps to one printable Unicode char so that
/// byte-level BPE vocabularies can be stored as JSON strings without control chars or spaces.
/// Printable Latin-1 bytes map to themselves; the other 68 bytes are shifted to U+0100 upward in byte order.
/// </summary>
internal static class ByteUnicodeMap
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> s_charToByte = BuildCharToByte(s_byteToChar);

    public static char ToChar(byte b) => s_byteToChar[b];

    public static bool TryToByte(char c, out byte b) => s_charToByte.TryGetValue(c, out b);

    /// <summary>The vocabulary string of the single-byte token for <paramref name="b"/>.</summary>
    public static string ByteToken(byte b) => s_byteToChar[b].ToString();

    /// <summary>
    /// Bytes of a vocabulary token. Chars outside the alphabet (seen in a few hand-edited vocabularies)
    /// contribute their own UTF-8 so nothing is silently dropped.
    /// </summary>
    public static byte[] TokenToBytes(string token)
    {
        var bytes = new List<byte>(token.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < token.Length; i++)
        {
            if (TryToByte(token[i], out byte b))
            {
                bytes.Add(b);
                continue;
            }
            int charCount = char.IsHighSurrogate(token[i]) && i + 1 < token.Length ? 2 : 1;
            int len = System.Text.Encoding.UTF8.GetBytes(token.AsSpan(i, charCount), utf8);
            for (int k = 0; k < len; k++) bytes.Add(utf8[k]);
            i += charCount - 1;
        }
        return bytes.ToArray();
    }

    public static string BytesToToken(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = s_byteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) map[byteToChar[b]] = (byte)b;
        return map;
    }
}
