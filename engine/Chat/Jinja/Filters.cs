using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>
/// Jinja's filters (<c>value | name(args)</c>) that chat templates use, with Jinja's argument names. String filters
/// convert their operand with <c>str()</c> first, as Jinja does, so an undefined value trims to "".
/// </summary>
internal static class Filters
{
    public static object? Apply(string name, object? v, Arguments a)
    {
        switch (name)
        {
            case "safe": return v;
            case "string": return Values.ToStr(v);
            case "trim": return Text.Strip(Values.ToStr(v), a.Get(0, "chars"), start: true, end: true);
            case "upper": return Text.Upper(Values.ToStr(v));
            case "lower": return Text.Lower(Values.ToStr(v));
            case "capitalize": return Text.Capitalize(Values.ToStr(v));
            case "title": return Text.Title(Values.ToStr(v));
            case "length" or "count": return Values.Length(v);
            case "replace":
                return Text.Replace(Values.ToStr(v), Methods.Str(a.Get(0, "old")), Values.ToStr(a.Get(1, "new")),
                    a.Get(2, "count") is null ? -1 : Values.ToLong(a.Get(2, "count")));
            case "default" or "d":
            {
                bool boolean = Values.IsTrue(a.Get(1, "boolean", false));
                return v is Undefined || (boolean && !Values.IsTrue(v)) ? a.Get(0, "default_value", "") : v;
            }
            case "tojson": return ToJson(v, a);
            case "join": return Join(v, a);
            case "first":
            {
                List<object?> items = Values.Iterate(v);
                return items.Count > 0 ? items[0] : new Undefined("'first' found no item: the sequence is empty");
            }
            case "last":
            {
                List<object?> items = Values.Iterate(v);
                return items.Count > 0 ? items[^1] : new Undefined("'last' found no item: the sequence is empty");
            }
            case "list": return Values.Iterate(v).ToList();
            case "reverse": return v is string s ? string.Concat(Text.CodePointList(s).AsEnumerable().Reverse()) : Values.Iterate(v).AsEnumerable().Reverse().ToList();
            case "items":
                return v switch
                {
                    Dict d => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                    Undefined => new List<object?>(),
                    _ => throw new JinjaError($"can only get item pairs from a mapping, not {Values.TypeName(v)}"),
                };
            case "dictsort":
            {
                if (v is not Dict d) throw new JinjaError($"dictsort needs a mapping, not {Values.TypeName(v)}");
                bool byValue = Values.ToStr(a.Get(1, "by", "key")) == "value";
                bool reverse = Values.IsTrue(a.Get(2, "reverse", false));
                bool caseSensitive = Values.IsTrue(a.Get(0, "case_sensitive", false));
                var pairs = d.Select(kv => new List<object?> { kv.Key, kv.Value }).ToList();
                pairs.Sort((x, y) => SortCompare(x[byValue ? 1 : 0], y[byValue ? 1 : 0], caseSensitive));
                if (reverse) pairs.Reverse();
                return pairs.Select(p => (object?)p).ToList();
            }
            case "sort":
            {
                bool reverse = Values.IsTrue(a.Get(0, "reverse", false));
                bool caseSensitive = Values.IsTrue(a.Get(1, "case_sensitive", false));
                object? attribute = a.Get(2, "attribute");
                var items = Values.Iterate(v).ToList();
                Func<object?, object?> key = attribute is null ? x => x : x => AttributePath(x, Values.ToStr(attribute));
                var sorted = items.OrderBy(key, Comparer<object?>.Create((x, y) => SortCompare(x, y, caseSensitive))).ToList();
                if (reverse) sorted.Reverse();
                return sorted;
            }
            case "unique":
            {
                bool caseSensitive = Values.IsTrue(a.Get(0, "case_sensitive", false));
                var result = new List<object?>();
                foreach (object? item in Values.Iterate(v))
                    if (!result.Any(r => Values.AreEqual(Fold(r, caseSensitive), Fold(item, caseSensitive)))) result.Add(item);
                return result;
            }
            case "int": return ToInt(v, a.Get(0, "default", 0L));
            case "float": return ToFloat(v, a.Get(0, "default", 0.0));
            case "abs":
                return v switch
                {
                    long n => (object)Math.Abs(n),
                    double x => Math.Abs(x),
                    bool b => b ? 1L : 0L,
                    _ => throw new JinjaError($"bad operand type for abs(): '{Values.TypeName(v)}'"),
                };
            case "round":
            {
                int precision = (int)Values.ToLong(a.Get(0, "precision", 0L));
                string method = Values.ToStr(a.Get(1, "method", "common"));
                double x = Values.ToDouble(v), scale = Math.Pow(10, precision);
                return method switch
                {
                    "common" => Math.Round(x * scale, MidpointRounding.AwayFromZero) / scale,
                    "floor" => Math.Floor(x * scale) / scale,
                    "ceil" => Math.Ceiling(x * scale) / scale,
                    _ => throw new JinjaError("round method must be 'common', 'ceil' or 'floor'"),
                };
            }
            case "indent": return Indent(Values.ToStr(v), a);
            case "wordcount": return (long)Text.Split(Values.ToStr(v), null, -1).Count;
            case "escape" or "e": return Escape(Values.ToStr(v));
            case "attr": return Access.Attribute(v, Methods.Str(a.Get(0, "name")));
            case "map": return Map(v, a);
            case "select" or "reject": return Select(v, a, keep: name == "select", attribute: false);
            case "selectattr" or "rejectattr": return Select(v, a, keep: name == "selectattr", attribute: true);
            default: throw new JinjaError($"unknown filter '{name}'");
        }
    }

    /// <summary>Hugging Face's tojson: <c>(ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>.</summary>
    private static string ToJson(object? v, Arguments a)
    {
        object? indent = a.Get(1, "indent");
        object? separators = a.Get(2, "separators");
        (string, string)? seps = separators switch
        {
            null => null,
            List<object?> { Count: 2 } l when l[0] is string item && l[1] is string key => (item, key),
            _ => throw new JinjaError("separators must be a pair of strings"),
        };
        return JsonText.Serialize(v, indent is null ? null : (int)Values.ToLong(indent),
            Values.IsTrue(a.Get(0, "ensure_ascii", false)), Values.IsTrue(a.Get(3, "sort_keys", false)), seps);
    }

    private static string Join(object? v, Arguments a)
    {
        string separator = Values.ToStr(a.Get(0, "d", ""));
        object? attribute = a.Get(1, "attribute");
        IEnumerable<object?> items = Values.Iterate(v);
        if (attribute is not null) items = items.Select(x => AttributePath(x, Values.ToStr(attribute)));
        return string.Join(separator, items.Select(Values.ToStr));
    }

    private static List<object?> Map(object? v, Arguments a)
    {
        List<object?> items = Values.Iterate(v);
        if (a.Keywords.TryGetValue("attribute", out object? attribute))
        {
            bool hasDefault = a.Keywords.TryGetValue("default", out object? def);
            return items.Select(x =>
            {
                object? value = AttributePath(x, Values.ToStr(attribute));
                return value is Undefined && hasDefault ? def : value;
            }).ToList();
        }
        if (a.Positional.Count == 0) throw new JinjaError("map needs a filter name or attribute=...");
        string filter = Methods.Str(a.Positional[0]);
        var rest = new Arguments(a.Positional.Skip(1).ToList(), a.Keywords);
        return items.Select(x => Apply(filter, x, rest)).ToList();
    }

    /// <summary>select/reject (test on the item) and selectattr/rejectattr (test on an attribute of it).</summary>
    private static List<object?> Select(object? v, Arguments a, bool keep, bool attribute)
    {
        int next = 0;
        string? path = attribute ? Methods.Str(a.Get(next++, "attribute")) : null;
        string? test = a.Positional.Count > next ? Methods.Str(a.Positional[next]) : null;
        var testArgs = a.Positional.Skip(next + 1).ToList();
        var result = new List<object?>();
        foreach (object? item in Values.Iterate(v))
        {
            object? subject = path is null ? item : AttributePath(item, path);
            bool passes = test is null ? Values.IsTrue(subject) : Predicates.Test(test, subject, testArgs);
            if (passes == keep) result.Add(item);
        }
        return result;
    }

    /// <summary>Jinja's attribute paths for filters: <c>"function.name"</c>, and integers index into lists.</summary>
    private static object? AttributePath(object? item, string path)
    {
        object? value = item;
        foreach (string part in path.Split('.'))
        {
            if (value is Undefined) return value;
            value = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long index)
                ? Access.Item(value, index)
                : Access.Item(value, part);
        }
        return value;
    }

    private static int SortCompare(object? x, object? y, bool caseSensitive) =>
        Values.Compare(Fold(x, caseSensitive), Fold(y, caseSensitive));

    private static object? Fold(object? v, bool caseSensitive) => !caseSensitive && v is string s ? Text.Lower(s) : v;

    private static object? ToInt(object? v, object? fallback) => v switch
    {
        long n => n,
        bool b => b ? 1L : 0L,
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) => n,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)Math.Truncate(d),
        _ => fallback,
    };

    private static object? ToFloat(object? v, object? fallback) => v switch
    {
        long n => (double)n,
        bool b => b ? 1.0 : 0.0,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        _ => fallback,
    };

    /// <summary>Jinja 3's indent: lines after the first get the prefix; blank lines only with blank=True.</summary>
    private static string Indent(string s, Arguments a)
    {
        object? width = a.Get(0, "width", 4L);
        string prefix = width is string w ? w : new string(' ', (int)Values.ToLong(width));
        bool first = Values.IsTrue(a.Get(1, "first", false));
        bool blank = Values.IsTrue(a.Get(2, "blank", false));
        string[] lines = (s + "\n").Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')[..^1];
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) sb.Append('\n');
            bool indent = i == 0 ? first : blank || lines[i].Length > 0;
            if (indent) sb.Append(prefix);
            sb.Append(lines[i]);
        }
        return sb.ToString();
    }

    private static string Escape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);
}
