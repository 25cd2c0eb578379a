using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>
/// Splits a template into text and tag tokens, applying whitespace control as Hugging Face renders chat templates:
/// trim_blocks (the newline after a block or comment tag is dropped), lstrip_blocks (spaces and tabs before a block
/// or comment tag at the start of a line are dropped), <c>-</c> on a tag side strips all whitespace on that side,
/// <c>+</c> turns trim/lstrip off for that side, and one trailing newline of the template is dropped.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] s_twoCharOperators = ["//", "**", "==", "!=", "<=", ">="];
    private const string OneCharOperators = "+-*/%~<>=()[]{},.:|";

    private readonly string _src;
    private readonly int[] _lineStarts;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string source)
    {
        if (source.EndsWith("\r\n", StringComparison.Ordinal)) source = source[..^2];
        else if (source.EndsWith('\n')) source = source[..^1];
        _src = source;
        var starts = new List<int> { 0 };
        for (int i = 0; i < source.Length; i++)
            if (source[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            int open = FindTagOpen(_pos);
            if (open < 0)
            {
                AddText(_src[_pos..], _pos);
                break;
            }
            char kind = _src[open + 1];
            char modifier = open + 2 < _src.Length ? _src[open + 2] : '\0';
            string text = _src[_pos..open];
            if (modifier == '-') text = text.TrimEnd();
            else if (kind != '{' && modifier != '+') text = text[..^LeadingLineWhitespace(open, text.Length)];
            AddText(text, _pos);
            int inner = open + 2 + (modifier is '-' or '+' ? 1 : 0);
            if (kind == '#') LexComment(open, inner);
            else if (kind == '%' && IsRawBlock(inner)) LexRaw(open, inner);
            else LexTag(open, inner, kind == '%');
        }
        _tokens.Add(new Token(TokenKind.End, "", Pos(_src.Length)));
    }

    private int FindTagOpen(int from)
    {
        for (int i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
            if (_src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    /// <summary>lstrip_blocks: how many spaces/tabs right before <paramref name="open"/> sit alone at the start of a line.</summary>
    private int LeadingLineWhitespace(int open, int available)
    {
        int j = open;
        while (j > 0 && _src[j - 1] is ' ' or '\t') j--;
        bool lineStart = j == 0 || _src[j - 1] == '\n';
        return lineStart ? Math.Min(open - j, available) : 0;
    }

    private void AddText(string text, int at)
    {
        if (text.Length > 0) _tokens.Add(new Token(TokenKind.Text, text, Pos(at)));
    }

    private void LexComment(int open, int inner)
    {
        int close = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (close < 0) throw Error("the comment is never closed with '#}'", open);
        _pos = close + 2;
        AfterTag(stripAfter: _src[close - 1] == '-' && close - 1 >= inner, keepNewline: _src[close - 1] == '+', trims: true);
    }

    private bool IsRawBlock(int inner)
    {
        int i = SkipSpaces(inner);
        return string.CompareOrdinal(_src, i, "raw", 0, 3) == 0 && i + 3 < _src.Length && !IsNameChar(_src[i + 3]);
    }

    /// <summary><c>{% raw %}...{% endraw %}</c>: the content is text, tags inside are not interpreted.</summary>
    private void LexRaw(int open, int inner)
    {
        int i = SkipSpaces(SkipSpaces(inner) + 3);
        bool stripContentStart = _src[i] == '-';
        if (_src[i] is '-' or '+') i++;
        if (string.CompareOrdinal(_src, i, "%}", 0, 2) != 0) throw Error("expected '%}' after 'raw'", i);
        int contentStart = i + 2;
        for (int search = contentStart; ;)
        {
            int end = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (end < 0) throw Error("the raw block is never closed with '{% endraw %}'", open);
            int j = end + 2;
            bool stripContentEnd = j < _src.Length && _src[j] == '-';
            if (j < _src.Length && _src[j] is '-' or '+') j++;
            j = SkipSpaces(j);
            if (string.CompareOrdinal(_src, j, "endraw", 0, 6) != 0) { search = end + 2; continue; }
            j = SkipSpaces(j + 6);
            bool stripAfter = _src[j] == '-', keepNewline = _src[j] == '+';
            if (_src[j] is '-' or '+') j++;
            if (string.CompareOrdinal(_src, j, "%}", 0, 2) != 0) throw Error("expected '%}' after 'endraw'", j);
            string content = _src[contentStart..end];
            if (stripContentStart) content = content.TrimStart();
            if (stripContentEnd) content = content.TrimEnd();
            AddText(content, contentStart);
            _pos = j + 2;
            AfterTag(stripAfter, keepNewline, trims: true);
            return;
        }
    }

    private void LexTag(int open, int inner, bool block)
    {
        _tokens.Add(new Token(block ? TokenKind.BlockStart : TokenKind.VariableStart, "", Pos(open)));
        char closer = block ? '%' : '}';
        int depth = 0;
        int i = inner;
        while (true)
        {
            while (i < _src.Length && char.IsWhiteSpace(_src[i])) i++;
            if (i >= _src.Length) throw Error(block ? "the tag is never closed with '%}'" : "the expression is never closed with '}}'", open);
            char c = _src[i];
            if (depth == 0)
            {
                int modifierLen = c is '-' or '+' ? 1 : 0;
                if (i + modifierLen + 1 < _src.Length && _src[i + modifierLen] == closer && _src[i + modifierLen + 1] == '}')
                {
                    _tokens.Add(new Token(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, "", Pos(i)));
                    _pos = i + modifierLen + 2;
                    AfterTag(stripAfter: c == '-', keepNewline: c == '+', trims: block);
                    return;
                }
            }
            if (c is '\'' or '"') i = LexString(i);
            else if (char.IsAsciiDigit(c)) i = LexNumber(i);
            else if (IsNameStart(c))
            {
                int start = i;
                while (i < _src.Length && IsNameChar(_src[i])) i++;
                _tokens.Add(new Token(TokenKind.Name, _src[start..i], Pos(start)));
            }
            else
            {
                string? two = i + 1 < _src.Length ? _src.Substring(i, 2) : null;
                string op = two is not null && s_twoCharOperators.Contains(two) ? two
                    : OneCharOperators.Contains(c) ? c.ToString()
                    : throw Error($"unexpected character '{c}'", i);
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}")
                {
                    if (depth == 0) throw Error($"unexpected '{op}'", i);
                    depth--;
                }
                _tokens.Add(new Token(TokenKind.Operator, op, Pos(i)));
                i += op.Length;
            }
        }
    }

    /// <summary>Right-side whitespace control after a tag that ended at <see cref="_pos"/>.</summary>
    private void AfterTag(bool stripAfter, bool keepNewline, bool trims)
    {
        if (stripAfter)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
        }
        else if (trims && !keepNewline)
        {
            if (_pos < _src.Length && _src[_pos] == '\n') _pos++;
            else if (_pos + 1 < _src.Length && _src[_pos] == '\r' && _src[_pos + 1] == '\n') _pos += 2;
        }
    }

    private int LexString(int start)
    {
        char quote = _src[start];
        var sb = new StringBuilder();
        int i = start + 1;
        while (true)
        {
            if (i >= _src.Length) throw Error("the string is never closed", start);
            char c = _src[i];
            if (c == quote) break;
            if (c != '\\' || i + 1 >= _src.Length)
            {
                sb.Append(c);
                i++;
                continue;
            }
            char e = _src[i + 1];
            i += 2;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '0': sb.Append('\0'); break;
                case '\\': case '\'': case '"': sb.Append(e); break;
                case '\n': break;
                case 'x': sb.Append(HexEscape(ref i, 2)); break;
                case 'u': sb.Append(HexEscape(ref i, 4)); break;
                case 'U': sb.Append(HexEscape(ref i, 8)); break;
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes as written.
            }
        }
        _tokens.Add(new Token(TokenKind.String, sb.ToString(), Pos(start)));
        return i + 1;
    }

    private string HexEscape(ref int i, int digits)
    {
        if (i + digits > _src.Length
            || !int.TryParse(_src.AsSpan(i, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
            || !Rune.IsValid(code))
            throw Error($"invalid \\{(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U')} escape in a string", i - 2);
        i += digits;
        return char.ConvertFromUtf32(code);
    }

    private int LexNumber(int start)
    {
        int i = start;
        while (i < _src.Length && (char.IsAsciiDigit(_src[i]) || _src[i] == '_')) i++;
        bool isFloat = false;
        if (i + 1 < _src.Length && _src[i] == '.' && char.IsAsciiDigit(_src[i + 1]))
        {
            isFloat = true;
            i++;
            while (i < _src.Length && (char.IsAsciiDigit(_src[i]) || _src[i] == '_')) i++;
        }
        if (i < _src.Length && _src[i] is 'e' or 'E')
        {
            int j = i + 1;
            if (j < _src.Length && _src[j] is '+' or '-') j++;
            if (j < _src.Length && char.IsAsciiDigit(_src[j]))
            {
                isFloat = true;
                i = j;
                while (i < _src.Length && char.IsAsciiDigit(_src[i])) i++;
            }
        }
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _src[start..i].Replace("_", ""), Pos(start)));
        return i;
    }

    private int SkipSpaces(int i)
    {
        while (i < _src.Length && char.IsWhiteSpace(_src[i])) i++;
        return i;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private SourcePos Pos(int index)
    {
        int line = Array.BinarySearch(_lineStarts, index);
        if (line < 0) line = ~line - 1;
        return new SourcePos(line + 1, index - _lineStarts[line] + 1);
    }

    private ChatTemplateException Error(string message, int index)
    {
        SourcePos p = Pos(index);
        return new ChatTemplateException(message, p.Line, p.Column);
    }
}
