using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>
/// The <c>tojson</c> filter as Hugging Face defines it: Python's <c>json.dumps(value, ensure_ascii=False,
/// indent=indent, separators=separators, sort_keys=sort_keys)</c>. Without indent the separators are
/// <c>", "</c> and <c>": "</c>; with indent, <c>","</c> and <c>": "</c> with each item on its own line.
/// </summary>
internal static class JsonText
{
    public static string Serialize(object? value, int? indent, bool ensureAscii, bool sortKeys, (string Item, string Key)? separators)
    {
        var (item, key) = separators ?? (indent is null ? (", ", ": ") : (",", ": "));
        var sb = new StringBuilder();
        Write(sb, value, new Style(indent, ensureAscii, sortKeys, item, key), 0);
        return sb.ToString();
    }

    private sealed record Style(int? Indent, bool EnsureAscii, bool SortKeys, string ItemSeparator, string KeySeparator);

    private static void Write(StringBuilder sb, object? value, Style style, int depth)
    {
        switch (value)
        {
            case null or Undefined: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long n: sb.Append(n.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : Values.FormatFloat(d));
                break;
            case string s: WriteString(sb, s, style.EnsureAscii); break;
            case List<object?> list:
                WriteContainer(sb, '[', ']', list.Count, style, depth, i => Write(sb, list[i], style, depth + 1));
                break;
            case Dict dict: WriteObject(sb, dict, style, depth); break;
            case Namespace ns: WriteObject(sb, ns.Attributes, style, depth); break;
            default: throw new JinjaError($"Object of type {Values.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteObject(StringBuilder sb, Dict dict, Style style, int depth)
    {
        List<KeyValuePair<string, object?>> entries = [.. dict];
        if (style.SortKeys) entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        WriteContainer(sb, '{', '}', entries.Count, style, depth, i =>
        {
            WriteString(sb, entries[i].Key, style.EnsureAscii);
            sb.Append(style.KeySeparator);
            Write(sb, entries[i].Value, style, depth + 1);
        });
    }

    private static void WriteContainer(StringBuilder sb, char open, char close, int count, Style style, int depth, Action<int> writeItem)
    {
        sb.Append(open);
        if (count > 0)
        {
            for (int i = 0; i < count; i++)
            {
                if (i > 0) sb.Append(style.ItemSeparator);
                NewLine(sb, style, depth + 1);
                writeItem(i);
            }
            NewLine(sb, style, depth);
        }
        sb.Append(close);
    }

    private static void NewLine(StringBuilder sb, Style style, int depth)
    {
        if (style.Indent is int indent) sb.Append('\n').Append(' ', indent * depth);
    }

    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7f))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
