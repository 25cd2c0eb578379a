using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DistillSpec.Tokenization;

/// <summary>
/// A tokenizer.json regex run with the semantics of the JavaScript reference (transformers.js compiles them with
/// the "u" flag). .NET differs in three ways that change token boundaries, and each is bridged here:
/// \s, \d and \w mean the ECMAScript sets (not Unicode \d or \w, and \s with U+FEFF but without U+0085);
/// "(?i:'s|'t|...)" becomes the explicit classes the reference rewrites it to; and a character outside the BMP
/// is one character to the pattern, so text is matched with every surrogate pair replaced by one stand-in of the
/// same general category (letters stay letters, emoji stay symbols) and the match positions are mapped back.
/// </summary>
internal sealed class JsRegex
{
    // ECMAScript WhiteSpace and LineTerminator code points.
    private const string JsSpace = @"\t\n\v\f\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF";
    private const string Contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    private const string ContractionsExplicit = "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))";

    private readonly Regex _regex;

    public JsRegex(string pattern, bool unicode = true)
    {
        Pattern = pattern;
        Unicode = unicode;
        _regex = new Regex(Translate(pattern), RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    public string Pattern { get; }
    /// <summary>With the "u" flag an astral character is one unit; without it, two.</summary>
    public bool Unicode { get; }

    public static JsRegex Literal(string text) => new(Regex.Escape(text));

    /// <summary>Start and length (in <paramref name="text"/>'s UTF-16 units) of every non-overlapping match, empty ones included.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        int[]? map = null;
        string subject = Unicode ? WithStandIns(text, out map) : text;
        foreach (ValueMatch m in _regex.EnumerateMatches(subject))
        {
            if (map is null) result.Add((m.Index, m.Length));
            else result.Add((map[m.Index], map[m.Index + m.Length] - map[m.Index]));
        }
        return result;
    }

    public string Replace(string text, string replacement)
    {
        List<(int Start, int Length)> matches = Matches(text);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        foreach (var (start, length) in matches)
        {
            sb.Append(text, pos, start - pos).Append(replacement);
            pos = start + length;
        }
        return sb.Append(text, pos, text.Length - pos).ToString();
    }

    /// <exception cref="NotSupportedException">The pattern uses a construct whose JavaScript meaning .NET cannot express here.</exception>
    private static string Translate(string pattern)
    {
        pattern = pattern.Replace(Contractions, ContractionsExplicit, StringComparison.Ordinal);
        var sb = new StringBuilder(pattern.Length + 32);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (char.IsSurrogate(c))
                throw new NotSupportedException($"regex {pattern} contains a character outside the Basic Multilingual Plane");
            if (c == '[' && !inClass) { inClass = true; sb.Append(c); continue; }
            if (c == ']' && inClass) { inClass = false; sb.Append(c); continue; }
            if (c != '\\' || i + 1 == pattern.Length) { sb.Append(c); continue; }
            char e = pattern[++i];
            string? set = e switch { 's' => JsSpace, 'd' => "0-9", 'w' => "a-zA-Z0-9_", _ => null };
            string? negated = e switch { 'S' => JsSpace, 'D' => "0-9", 'W' => "a-zA-Z0-9_", _ => null };
            if (set is not null) sb.Append(inClass ? set : "[" + set + "]");
            else if (negated is not null && !inClass) sb.Append("[^").Append(negated).Append(']');
            else if (negated is not null) throw new NotSupportedException($"regex {pattern} uses \\{e} inside a character class");
            else if (e == 'u' && i + 1 < pattern.Length && pattern[i + 1] == '{')
                throw new NotSupportedException($"regex {pattern} uses a \\u{{...}} code point escape");
            else sb.Append('\\').Append(e);
        }
        return sb.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> with each surrogate pair replaced by one BMP character of the same general category;
    /// <paramref name="map"/>[i] is where character i of the result starts in <paramref name="text"/> (one extra entry for the end).
    /// Null map when the text has no surrogate pairs.
    /// </summary>
    private static string WithStandIns(string text, out int[]? map)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDBFF');
        if (first < 0)
        {
            map = null;
            return text;
        }
        var sb = new StringBuilder(text.Length);
        var positions = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            positions.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i++;
            }
            else
            {
                sb.Append(text[i]);
            }
        }
        positions.Add(text.Length);
        map = positions.ToArray();
        return sb.ToString();
    }

    // BMP characters outside ASCII (patterns often spell out ASCII classes) and outside the ranges tokenizers name.
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0391',
        UnicodeCategory.LowercaseLetter => '\u03B1',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u05D0',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00A1',
        UnicodeCategory.MathSymbol => '\u00AC',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u00A8',
        UnicodeCategory.OtherSymbol => '\u00A6',
        UnicodeCategory.Format => '\u2060',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };
}
