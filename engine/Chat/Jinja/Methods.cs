namespace DistillSpec.Chat.Jinja;

/// <summary>
/// The Python methods templates call on values (<c>text.strip()</c>, <c>message.get('x')</c>). Only reading
/// methods exist: Hugging Face renders in an immutable sandbox, where <c>list.append</c> and friends are refused.
/// </summary>
internal static class Methods
{
    public static Callable? Bind(object? target, string name) => target switch
    {
        string s => BindString(s, name),
        Dict d => BindDict(d, name),
        _ => null,
    };

    private static Callable? BindString(string s, string name) => name switch
    {
        "strip" => a => Text.Strip(s, a.Get(0, "chars"), start: true, end: true),
        "lstrip" => a => Text.Strip(s, a.Get(0, "chars"), start: true, end: false),
        "rstrip" => a => Text.Strip(s, a.Get(0, "chars"), start: false, end: true),
        "split" => a => Text.Split(s, a.Get(0, "sep"), Values.ToLong(a.Get(1, "maxsplit", -1L))),
        "splitlines" => _ => s.Length == 0 ? new List<object?>() : SplitLines(s),
        "startswith" => a => Affix(s, a.Get(0, "prefix"), (x, p) => x.StartsWith(p, StringComparison.Ordinal)),
        "endswith" => a => Affix(s, a.Get(0, "suffix"), (x, p) => x.EndsWith(p, StringComparison.Ordinal)),
        "upper" => _ => Text.Upper(s),
        "lower" => _ => Text.Lower(s),
        "title" => _ => Text.Title(s),
        "capitalize" => _ => Text.Capitalize(s),
        "replace" => a => Text.Replace(s, Str(a.Get(0, "old")), Str(a.Get(1, "new")), a.Get(2, "count") is null ? -1 : Values.ToLong(a.Get(2, "count"))),
        "find" => a => (long)s.IndexOf(Str(a.Get(0, "sub")), StringComparison.Ordinal),
        "rfind" => a => (long)s.LastIndexOf(Str(a.Get(0, "sub")), StringComparison.Ordinal),
        "count" => a => CountOccurrences(s, Str(a.Get(0, "sub"))),
        "join" => a => string.Join(s, Values.Iterate(a.Get(0, "iterable")).Select(Values.ToStr)),
        "isdigit" => _ => s.Length > 0 && s.All(char.IsDigit),
        "isalpha" => _ => s.Length > 0 && s.All(char.IsLetter),
        "isspace" => _ => s.Length > 0 && s.All(char.IsWhiteSpace),
        "islower" => _ => s.Any(char.IsLetter) && s == Text.Lower(s),
        "isupper" => _ => s.Any(char.IsLetter) && s == Text.Upper(s),
        _ => null,
    };

    private static Callable? BindDict(Dict d, string name) => name switch
    {
        "get" => a => d.TryGetValue(Str(a.Get(0, "key")), out object? v) ? v : a.Get(1, "default"),
        "items" => _ => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
        "keys" => _ => d.Keys.Select(k => (object?)k).ToList(),
        "values" => _ => d.Values.ToList(),
        _ => null,
    };

    private static bool Affix(string s, object? affix, Func<string, string, bool> test) => affix switch
    {
        string p => test(s, p),
        List<object?> options => options.Any(o => test(s, Str(o))),
        _ => throw new JinjaError($"expected a string or a tuple of strings, got {Values.TypeName(affix)}"),
    };

    private static List<object?> SplitLines(string s)
    {
        List<object?> lines = [.. s.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', '\r')];
        if (s.EndsWith('\n') || s.EndsWith('\r')) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static long CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return Text.CodePointCount(s) + 1;
        long n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    public static string Str(object? v) => v as string ?? throw new JinjaError($"expected a string, got {Values.TypeName(v)}");
}
