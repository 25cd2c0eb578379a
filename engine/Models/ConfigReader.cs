using System.Text.Json;

namespace DistillSpec.Models;

/// <summary>Typed access to config.json fields with errors that name the file and the field.</summary>
internal readonly struct ConfigReader(JsonElement root, string path)
{
    public ModelFormatException Error(string problem) => new(path, problem);

    public string Architecture()
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "expected a JSON object");
        if (root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
            && a[0].ValueKind == JsonValueKind.String)
            return a[0].GetString()!;
        // Some exports carry only model_type; each registered architecture knows its own.
        if (!root.TryGetProperty("architectures", out _) && root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String
            && Architectures.ModelArchitectures.ClassForModelType(t.GetString()!) is string className)
            return className;
        throw new ModelFormatException(path, "missing field 'architectures' (an array naming the model class, e.g. [\"LlamaForCausalLM\"])");
    }

    public bool HasObject(string field) => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Object;

    public int Int(string field) =>
        OptionalInt(field) ?? throw new ModelFormatException(path, $"missing field '{field}' (an integer)");

    public int? OptionalInt(string field)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        throw new ModelFormatException(path, $"field '{field}' must be an integer, got {v.GetRawText()}");
    }

    public float? OptionalFloat(string field)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && Math.Abs(d) <= float.MaxValue) return (float)d;
        throw new ModelFormatException(path, $"field '{field}' must be a number within float range, got {v.GetRawText()}");
    }

    public bool? OptionalBool(string field)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        throw new ModelFormatException(path, $"field '{field}' must be true or false, got {v.GetRawText()}");
    }

    public int[] IntOrArray(string field)
    {
        if (!root.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int one)) return [one];
        if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out _)))
            return v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        throw new ModelFormatException(path, $"field '{field}' must be an integer or an array of integers, got {v.GetRawText()}");
    }
}
