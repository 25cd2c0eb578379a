using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>Python's <c>str</c> semantics over .NET strings: lengths, indices and slices count code points, not UTF-16 units.</summary>
internal static class Text
{
    public static IEnumerable<object?> CodePoints(string s)
    {
        foreach (Rune r in s.EnumerateRunes()) yield return r.ToString();
    }

    public static long CodePointCount(string s)
    {
        long n = 0;
        foreach (Rune _ in s.EnumerateRunes()) n++;
        return n;
    }

    public static List<string> CodePointList(string s)
    {
        var list = new List<string>(s.Length);
        foreach (Rune r in s.EnumerateRunes()) list.Add(r.ToString());
        return list;
    }

    /// <summary><c>str.strip(chars)</c>: with no chars (or None), Unicode whitespace.</summary>
    public static string Strip(string s, object? chars, bool start, bool end)
    {
        if (chars is null or Undefined)
        {
            if (start) s = s.TrimStart();
            if (end) s = s.TrimEnd();
            return s;
        }
        if (chars is not string set) throw new JinjaError($"strip arg must be None or str, not {Values.TypeName(chars)}");
        int a = 0, b = s.Length;
        if (start) while (a < b && set.Contains(s[a])) a++;
        if (end) while (b > a && set.Contains(s[b - 1])) b--;
        return s[a..b];
    }

    /// <summary><c>str.split(sep, maxsplit)</c>: with no separator, runs of whitespace split and ends are dropped.</summary>
    public static List<object?> Split(string s, object? sep, long maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null or Undefined)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[i..].TrimEnd());
                    break;
                }
                int j = i;
                while (j < s.Length && !char.IsWhiteSpace(s[j])) j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep is not string separator) throw new JinjaError($"must be str or None, not {Values.TypeName(sep)}");
        if (separator.Length == 0) throw new JinjaError("empty separator");
        int start = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(separator, start, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s[start..at]);
            start = at + separator.Length;
        }
        parts.Add(s[start..]);
        return parts;
    }

    /// <summary><c>str.replace(old, new, count)</c>; an empty <paramref name="old"/> inserts between characters as Python does.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count == 0) return s;
        if (old.Length == 0)
        {
            var sb = new StringBuilder();
            long done = 0;
            foreach (string cp in CodePointList(s))
            {
                if (count < 0 || done < count) { sb.Append(replacement); done++; }
                sb.Append(cp);
            }
            if (count < 0 || done < count) sb.Append(replacement);
            return sb.ToString();
        }
        if (count < 0) return s.Replace(old, replacement, StringComparison.Ordinal);
        var result = new StringBuilder();
        int start = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, start, StringComparison.Ordinal);
            if (at < 0) break;
            result.Append(s, start, at - start).Append(replacement);
            start = at + old.Length;
        }
        return result.Append(s, start, s.Length - start).ToString();
    }

    /// <summary><c>str.title()</c>: the first letter of each run of letters upper-cased, the rest lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool inWord = false;
        foreach (char c in s)
        {
            sb.Append(inWord ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            inWord = char.IsLetter(c);
        }
        return sb.ToString();
    }

    /// <summary><c>str.capitalize()</c>: the first character upper-cased, the rest lower-cased.</summary>
    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python slicing of a sequence of <paramref name="length"/> items: the indices it selects, in order.</summary>
    public static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long? step)
    {
        long st = step ?? 1;
        if (st == 0) throw new JinjaError("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = Clamp(start ?? 0, length, 0, length);
            hi = Clamp(stop ?? length, length, 0, length);
            for (long i = lo; i < hi; i += st) yield return (int)i;
        }
        else
        {
            lo = Clamp(start ?? length - 1, length, -1, length - 1);
            hi = Clamp(stop ?? -length - 1, length, -1, length - 1);
            for (long i = lo; i > hi; i += st) yield return (int)i;
        }
    }

    private static long Clamp(long index, int length, long min, long max)
    {
        if (index < 0) index += length;
        return Math.Clamp(index, min, max);
    }

    public static string Upper(string s) => s.ToUpperInvariant();

    public static string Lower(string s) => s.ToLowerInvariant();

    public static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);
}
