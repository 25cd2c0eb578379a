using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

// Template values are plain .NET objects, mirroring Python's types as Jinja sees them:
//   null = None, bool, long = int, double = float, string = str,
//   List<object?> = list (and tuple), Dict = dict (insertion-ordered, string keys),
//   Undefined, Namespace, Callable (functions, macros, bound methods).

/// <summary>A mapping with Python's insertion order.</summary>
internal sealed class Dict : OrderedDictionary<string, object?>
{
    public Dict() : base(StringComparer.Ordinal) { }
}

/// <summary>A name or attribute that does not exist: prints as nothing, is false, iterates as empty; anything else is an error.</summary>
internal sealed class Undefined(string description)
{
    /// <summary>What was missing, e.g. <c>'tools' is undefined</c>, used when it is misused.</summary>
    public string Description { get; } = description;

    public override string ToString() => "";
}

/// <summary>Jinja's <c>namespace(...)</c>: the one object a template may assign attributes to (<c>set ns.x = 1</c>).</summary>
internal sealed class Namespace
{
    public Dict Attributes { get; } = new();
}

/// <summary>Arguments of a call: positional, then by keyword.</summary>
internal sealed record Arguments(IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Keywords)
{
    public static readonly Arguments None = new([], new Dictionary<string, object?>());

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>; <paramref name="fallback"/> when absent.</summary>
    public object? Get(int index, string name, object? fallback = null) =>
        index < Positional.Count ? Positional[index] : Keywords.TryGetValue(name, out object? v) ? v : fallback;

    public bool Has(int index, string name) => index < Positional.Count || Keywords.ContainsKey(name);
}

/// <summary>Anything a template can call: globals, macros, bound methods such as <c>text.strip</c>.</summary>
internal delegate object? Callable(Arguments args);

/// <summary>Raised by value operations without a template position; the interpreter adds the position of the node.</summary>
internal sealed class JinjaError(string message, bool raisedByTemplate = false) : Exception(message)
{
    /// <summary>True for <c>raise_exception(...)</c>, the template's own error.</summary>
    public bool RaisedByTemplate { get; } = raisedByTemplate;
}

internal static class Values
{
    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long n => n != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dict d => d.Count > 0,
        _ => true,
    };

    /// <summary>Python's type name, for error messages that read like Jinja's.</summary>
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        Dict => "dict",
        Namespace => "Namespace",
        Callable => "function",
        _ => v.GetType().Name,
    };

    /// <summary>Python's <c>str(v)</c>: what <c>{{ v }}</c> prints.</summary>
    public static string ToStr(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's <c>repr(v)</c>, used inside printed lists and dicts.</summary>
    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, v);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("None"); break;
            case Undefined: break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case long n: sb.Append(n.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FormatFloat(d)); break;
            case string s: AppendStringRepr(sb, s); break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, list[i]);
                }
                sb.Append(']');
                break;
            case Dict dict:
                sb.Append('{');
                int k = 0;
                foreach (var (key, value) in dict)
                {
                    if (k++ > 0) sb.Append(", ");
                    AppendStringRepr(sb, key);
                    sb.Append(": ");
                    AppendRepr(sb, value);
                }
                sb.Append('}');
                break;
            case Namespace ns:
                sb.Append("<Namespace ");
                AppendRepr(sb, ns.Attributes);
                sb.Append('>');
                break;
            default: sb.Append("<function>"); break;
        }
    }

    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>Python's float repr: shortest round-trip digits, always with a '.' or an exponent.</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == Math.Floor(d) && Math.Abs(d) < 1e16) return d.ToString("F1", CultureInfo.InvariantCulture);
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E');
        if (e < 0) return r;
        // .NET writes 1E+16 and 1E-05; Python writes 1e+16 and 1e-05.
        string mantissa = r[..e], exponent = r[(e + 1)..];
        char sign = exponent[0] == '-' ? '-' : '+';
        string digits = exponent.TrimStart('+', '-').PadLeft(2, '0');
        return $"{mantissa}e{sign}{digits}";
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long n => n,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>Python's <c>==</c>: numbers across int/float/bool, lists and dicts by content.</summary>
    public static bool AreEqual(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        switch (a)
        {
            case null: return b is null;
            case Undefined: return b is Undefined;
            case string s: return b is string t && s == t;
            case List<object?> l:
                if (b is not List<object?> m || l.Count != m.Count) return false;
                for (int i = 0; i < l.Count; i++)
                    if (!AreEqual(l[i], m[i])) return false;
                return true;
            case Dict d:
                if (b is not Dict e || d.Count != e.Count) return false;
                foreach (var (key, value) in d)
                    if (!e.TryGetValue(key, out object? other) || !AreEqual(value, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    /// <summary>Python's ordering for <c>&lt;</c> and sorting: numbers, strings by code point, lists element-wise.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string s && b is string t) return string.CompareOrdinal(s, t);
        if (a is List<object?> l && b is List<object?> m)
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
            {
                int c = Compare(l[i], m[i]);
                if (c != 0) return c;
            }
            return l.Count.CompareTo(m.Count);
        }
        throw new JinjaError($"cannot compare {TypeName(a)} with {TypeName(b)}");
    }

    public static long ToLong(object? v) => v switch
    {
        long n => n,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new JinjaError($"expected an integer, got {TypeName(v)}"),
    };

    /// <summary>What a for loop or a filter walks over: list items, dict keys, string characters.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => l,
        Dict d => [.. d.Keys],
        string s => [.. Text.CodePoints(s)],
        Undefined => [],
        _ => throw new JinjaError($"{TypeName(v)} is not iterable"),
    };

    public static long Length(object? v) => v switch
    {
        string s => Text.CodePointCount(s),
        List<object?> l => l.Count,
        Dict d => d.Count,
        Undefined => 0,
        _ => throw new JinjaError($"object of type {TypeName(v)} has no length"),
    };
}
