using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSpec.Chat.Jinja;

/// <summary>Turns caller data (.NET primitives, collections, System.Text.Json trees) into template values.</summary>
internal static class ValueConverter
{
    /// <param name="what">Names the value in the error when its type has no template counterpart.</param>
    public static object? From(object? value, string what) => value switch
    {
        null => null,
        string s => s,
        bool b => b,
        sbyte or byte or short or ushort or int or uint or long => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (object)(long)u : (double)u,
        float or double or decimal or Half => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        char c => c.ToString(),
        JsonElement e => FromJson(e),
        JsonNode n => FromJson(JsonSerializer.SerializeToElement(n)),
        IDictionary<string, object?> d => ToDict(d, what),
        IReadOnlyDictionary<string, object?> d => ToDict(d, what),
        IDictionary d => ToDict(d.Keys.Cast<object>().Select(k => new KeyValuePair<string, object?>(Convert.ToString(k, CultureInfo.InvariantCulture)!, d[k])), what),
        IEnumerable e => e.Cast<object?>().Select((x, i) => From(x, $"{what}[{i}]")).ToList(),
        _ => throw new ChatTemplateException($"{what} is a {value.GetType().Name}, which a chat template cannot use (give strings, numbers, booleans, lists, dictionaries or JSON)"),
    };

    private static Dict ToDict(IEnumerable<KeyValuePair<string, object?>> pairs, string what)
    {
        var dict = new Dict();
        foreach (var (key, v) in pairs) dict[key] = From(v, $"{what}.{key}");
        return dict;
    }

    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var dict = new Dict();
                foreach (JsonProperty p in e.EnumerateObject()) dict[p.Name] = FromJson(p.Value);
                return dict;
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(FromJson).ToList();
            case JsonValueKind.String:
                return e.GetString();
            case JsonValueKind.Number:
                // Python's json: a number written without '.' or an exponent is an int.
                string raw = e.GetRawText();
                return raw.AsSpan().IndexOfAny(".eE") < 0 && e.TryGetInt64(out long n) ? (object)n : e.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}
