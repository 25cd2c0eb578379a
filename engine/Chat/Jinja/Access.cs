namespace DistillSpec.Chat.Jinja;

/// <summary>
/// <c>obj.name</c>, <c>obj[key]</c> and <c>obj[a:b:c]</c>. A missing key or attribute is an <see cref="Undefined"/>
/// (an error only when used); reaching into something that is itself undefined is an error at once, as in Jinja.
/// </summary>
internal static class Access
{
    public static object? Attribute(object? target, string name) => target switch
    {
        Dict d => d.TryGetValue(name, out object? v) ? v : (object?)Methods.Bind(d, name) ?? Missing(target, name),
        Namespace ns => ns.Attributes.TryGetValue(name, out object? v) ? v : Missing(target, name),
        Undefined u => throw new JinjaError(u.Description),
        _ => (object?)Methods.Bind(target, name) ?? Missing(target, name),
    };

    public static object? Item(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u:
                throw new JinjaError(u.Description);
            case Dict d when key is string s:
                return d.TryGetValue(s, out object? v) ? v : Missing(target, s);
            case List<object?> list when key is long or bool:
            {
                long i = Values.ToLong(key);
                long at = i < 0 ? i + list.Count : i;
                return at >= 0 && at < list.Count ? list[(int)at] : new Undefined($"list index {i} is out of range (the list has {list.Count} items)");
            }
            case string s when key is long or bool:
            {
                List<string> chars = Text.CodePointList(s);
                long i = Values.ToLong(key);
                long at = i < 0 ? i + chars.Count : i;
                return at >= 0 && at < chars.Count ? chars[(int)at] : new Undefined($"string index {i} is out of range");
            }
            default:
                return key is string name ? Attribute(target, name) : Missing(target, Values.Repr(key));
        }
    }

    public static object? Slice(object? target, long? start, long? stop, long? step)
    {
        switch (target)
        {
            case List<object?> list:
                return Text.SliceIndices(list.Count, start, stop, step).Select(i => list[i]).ToList();
            case string s:
            {
                List<string> chars = Text.CodePointList(s);
                return string.Concat(Text.SliceIndices(chars.Count, start, stop, step).Select(i => chars[i]));
            }
            case Undefined u:
                throw new JinjaError(u.Description);
            default:
                throw new JinjaError($"'{Values.TypeName(target)}' object cannot be sliced");
        }
    }

    private static Undefined Missing(object? target, string name) =>
        new($"'{Values.TypeName(target)} object' has no attribute '{name}'");
}
