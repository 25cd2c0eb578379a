using System.Text.Json;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// Typed reads of a request object's fields; a field of the wrong type or out of range is an
/// <see cref="ApiError"/> naming it. Null counts as absent, as in OpenAI's API.
/// </summary>
internal readonly struct JsonFields(JsonElement obj, string prefix = "")
{
    public JsonElement Object => obj;

    public string Name(string field) => prefix + field;

    public bool Has(string field) => obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Get(string field) => obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string field) => Get(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw ApiError.WrongType(Name(field), "a string"),
    };

    public bool? Bool(string field) => Get(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw ApiError.WrongType(Name(field), "a boolean"),
    };

    public long? Integer(string field, long min, long max)
    {
        if (Get(field) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x)) throw ApiError.WrongType(Name(field), "an integer");
        if (x < min || x > max) throw ApiError.BadRequest($"'{Name(field)}' must be in [{min}, {max}], got {x}", Name(field), "invalid_value");
        return x;
    }

    /// <summary>A number in [min, max], or in (min, max] when minExclusive.</summary>
    public double? Number(string field, double min, double max, bool minExclusive = false)
    {
        if (Get(field) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw ApiError.WrongType(Name(field), "a number");
        double x = v.GetDouble();
        if ((minExclusive ? !(x > min) : !(x >= min)) || !(x <= max))
            throw ApiError.BadRequest($"'{Name(field)}' must be in {(minExclusive ? "(" : "[")}{min}, {max}], got {x}", Name(field), "invalid_value");
        return x;
    }

    /// <summary>The field's array items; null when absent.</summary>
    public JsonElement[]? Array(string field) => Get(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } v => [.. v.EnumerateArray()],
        _ => throw ApiError.WrongType(Name(field), "an array"),
    };

    /// <summary>Fields neither read nor known: OpenAI answers them "Unrecognized request argument", and so do we.</summary>
    public void RejectUnknown(IReadOnlySet<string> known)
    {
        foreach (var property in obj.EnumerateObject())
            if (!known.Contains(property.Name))
                throw ApiError.BadRequest($"Unrecognized request argument supplied: {Name(property.Name)}", Name(property.Name), "unknown_parameter");
    }

    public static JsonFields Of(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object) throw ApiError.WrongType(name, "an object");
        return new JsonFields(element, name.Length == 0 ? "" : name + ".");
    }
}
