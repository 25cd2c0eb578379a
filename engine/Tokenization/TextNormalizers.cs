using System.Globalization;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>The tokenizer.json "normalizer" section as one function over each stretch of text between added tokens.</summary>
internal static class TextNormalizers
{
    // What JavaScript's trim() removes: WhiteSpace and LineTerminator.
    private static readonly char[] s_jsWhitespace =
        ['\t', '\n', '\v', '\f', '\r', ' ', '\u00A0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005',
         '\u2006', '\u2007', '\u2008', '\u2009', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\uFEFF'];

    public static string TrimJs(string s) => s.Trim(s_jsWhitespace);
    public static string TrimStartJs(string s) => s.TrimStart(s_jsWhitespace);
    public static string TrimEndJs(string s) => s.TrimEnd(s_jsWhitespace);

    public static Func<string, string>? Create(JsonSection? section)
    {
        if (section is not JsonSection n) return null;
        switch (n.Type)
        {
            case "Sequence":
                Func<string, string>[] steps = n.Objects("normalizers").Select(s => Create(s)!).ToArray();
                return text =>
                {
                    foreach (var step in steps) text = step(text);
                    return text;
                };
            case "NFC": return text => UnicodeNormalization.Normalize(text, compatibility: false, compose: true);
            case "NFD": return text => UnicodeNormalization.Normalize(text, compatibility: false, compose: false);
            case "NFKC": return text => UnicodeNormalization.Normalize(text, compatibility: true, compose: true);
            case "NFKD": return text => UnicodeNormalization.Normalize(text, compatibility: true, compose: false);
            case "Lowercase": return ToLowerJs;
            case "StripAccents": return StripMarks;
            case "Prepend":
                string prefix = n.String("prepend");
                return text => prefix + text;
            case "Replace":
                JsRegex pattern = n.Pattern("pattern");
                string content = n.String("content");
                if (content.Contains('$')) throw n.Unsupported("a Replace content with '$' (a JavaScript replacement pattern)");
                return text => pattern.Replace(text, content);
            case "Strip":
                bool left = n.Bool("strip_left", false), right = n.Bool("strip_right", false);
                return text => left && right ? TrimJs(text) : left ? TrimStartJs(text) : right ? TrimEndJs(text) : text;
            case var other:
                throw n.Unsupported($"normalizer type \"{other}\"");
        }
    }

    /// <summary>
    /// JavaScript's toLowerCase: full case mapping, so İ becomes "i̇" and a word-final Σ becomes ς
    /// (.NET's invariant lowering maps one code point to one and knows no context).
    /// </summary>
    internal static string ToLowerJs(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int used);
            if (r.Value == 0x130) sb.Append("i\u0307");
            else if (r.Value == 0x3A3) sb.Append(IsFinalSigma(text, i) ? '\u03C2' : '\u03C3');
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
            i += used;
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma condition: a cased letter before (across case-ignorable marks) and none after.
    private static bool IsFinalSigma(string text, int at)
    {
        int before = at - 1;
        while (before >= 0 && IsCaseIgnorable(text[before])) before--;
        if (before < 0 || !char.IsLetter(text[before])) return false;
        int after = at + 1;
        while (after < text.Length && IsCaseIgnorable(text[after])) after++;
        return after == text.Length || !char.IsLetter(text[after]);
    }

    private static bool IsCaseIgnorable(char c) =>
        CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || c is '\'' or '.' or ':' or '\u00B7' or '\u2019';

    private static string StripMarks(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(r) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
                sb.Append(r.ToString());
        }
        return sb.ToString();
    }
}
