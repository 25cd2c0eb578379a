using System.Text.Json;
using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>
/// One object inside a tokenizer file, with its place ("pre_tokenizer.pretokenizers[0]") so that every
/// error names the file, the field and what was expected.
/// </summary>
internal readonly record struct JsonSection(JsonElement Element, string File, string Where)
{
    public string Type => OptionalString("type") ?? throw Error("type", "a string naming the component");

    public ModelFormatException Error(string field, string expected) =>
        new(File, $"{Where}.{field}: expected {expected}");

    public ModelFormatException Unsupported(string feature) =>
        new(File, $"{Where}: {feature} is not supported");

    public bool Has(string name) =>
        Element.TryGetProperty(name, out JsonElement v) && v.ValueKind != JsonValueKind.Null;

    public string String(string name) => OptionalString(name) ?? throw Error(name, "a string");

    public string? OptionalString(string name)
    {
        if (!Element.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(name, "a string");
    }

    public bool Bool(string name, bool absent)
    {
        if (!Element.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return absent;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, "true or false"),
        };
    }

    public int Int(string name, int absent)
    {
        if (!Element.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return absent;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Error(name, "an integer");
    }

    public JsonSection? OptionalObject(string name)
    {
        if (!Element.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Object ? new JsonSection(v, File, $"{Where}.{name}") : throw Error(name, "an object");
    }

    public JsonSection Object(string name) => OptionalObject(name) ?? throw Error(name, "an object");

    public JsonElement Array(string name) =>
        Element.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Array ? v : throw Error(name, "an array");

    public IEnumerable<JsonSection> Objects(string name)
    {
        int i = 0;
        foreach (JsonElement e in Array(name).EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object) throw Error($"{name}[{i}]", "an object");
            yield return new JsonSection(e, File, $"{Where}.{name}[{i++}]");
        }
    }

    /// <summary>A {"String": ...} or {"Regex": ...} pattern.</summary>
    public JsRegex Pattern(string name)
    {
        JsonSection p = Object(name);
        if (p.OptionalString("String") is string literal) return JsRegex.Literal(literal);
        string regex = p.OptionalString("Regex") ?? throw Error(name, "{\"String\": ...} or {\"Regex\": ...}");
        try
        {
            return new JsRegex(regex);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ModelFormatException(File, $"{Where}.{name}: regex cannot be used: {e.Message}");
        }
    }
}
