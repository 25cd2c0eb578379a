using System.Text.Json;

namespace DistillSpec.SafeTensors;

/// <summary>Parses and fully validates a header against the size of the data section it describes.</summary>
internal static class SafeTensorsHeader
{
    public const long MaxHeaderBytes = 100L * 1024 * 1024;
    public const string MetadataKey = "__metadata__";

    public static (Dictionary<string, TensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        byte[] json, long dataLength, string file)
    {
        // JsonDocument checks UTF-8 only when a string is read, and then throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw SafeTensorsException.ForFile(file, "header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw SafeTensorsException.ForFile(file, $"header is not valid JSON ({e.Message})", e);
        }

        using (doc)
        {
            try
            {
                return ReadEntries(doc.RootElement, dataLength, file);
            }
            catch (InvalidOperationException e)
            {
                // An escaped lone surrogate ("\ud800") is valid JSON but no .NET string.
                throw SafeTensorsException.ForFile(file, $"header holds a string that is not valid text ({e.Message})", e);
            }
        }
    }

    private static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ReadEntries(JsonElement root, long dataLength, string file)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw SafeTensorsException.ForFile(file, $"header is not a JSON object (found {root.ValueKind})");

        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        foreach (JsonProperty prop in root.EnumerateObject())
        {
            if (prop.Name == MetadataKey)
            {
                if (sawMetadata)
                    throw SafeTensorsException.ForFile(file, $"duplicate '{MetadataKey}' entry");
                sawMetadata = true;
                ReadMetadata(prop.Value, metadata, file);
                continue;
            }
            if (tensors.ContainsKey(prop.Name))
                throw SafeTensorsException.ForTensor(file, prop.Name, "duplicate tensor name in header");
            tensors.Add(prop.Name, ReadTensor(prop.Name, prop.Value, dataLength, file));
        }

        CheckNoOverlap(tensors.Values, file);
        return (tensors, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw SafeTensorsException.ForFile(file, $"'{MetadataKey}' must be an object of strings (found {value.ValueKind})");
        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw SafeTensorsException.ForFile(file,
                    $"'{MetadataKey}' entry '{entry.Name}' must be a string (found {entry.Value.ValueKind})");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static TensorInfo ReadTensor(string name, JsonElement entry, long dataLength, string file)
    {
        if (entry.ValueKind != JsonValueKind.Object)
            throw SafeTensorsException.ForTensor(file, name, $"entry must be a JSON object (found {entry.ValueKind})");

        JsonElement dtypeEl = Field(entry, "dtype", name, file);
        if (dtypeEl.ValueKind != JsonValueKind.String)
            throw SafeTensorsException.ForTensor(file, name, $"field 'dtype' must be a string (found {dtypeEl.ValueKind})");
        DType dtype = DTypeInfo.Parse(dtypeEl.GetString()!, file, name);

        int[] shape = ReadShape(Field(entry, "shape", name, file), name, file);
        (long begin, long end) = ReadOffsets(Field(entry, "data_offsets", name, file), name, file);

        // Checked in this order so a bad range is reported as such rather than as a size mismatch.
        if (begin > end)
            throw SafeTensorsException.ForTensor(file, name, $"data_offsets [{begin}, {end}] are out of bounds: begin is after end");
        if (end > dataLength)
            throw SafeTensorsException.ForTensor(file, name,
                $"data_offsets [{begin}, {end}] are out of bounds: end is beyond the data section ({dataLength} bytes)");

        long count = ElementCount(shape, name, file);
        int size = DTypeInfo.SizeOf(dtype);
        // Comparing against the span divided by the size first keeps count * size from overflowing on absurd shapes.
        if (count > (end - begin) / size || count * size != end - begin)
            throw SafeTensorsException.ForTensor(file, name,
                $"shape/size mismatch: shape [{string.Join(", ", shape)}] of {DTypeInfo.Name(dtype)} needs {count} x {size} bytes " +
                $"but data_offsets [{begin}, {end}] span {end - begin} bytes");

        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonElement Field(JsonElement entry, string field, string name, string file) =>
        entry.TryGetProperty(field, out JsonElement value)
            ? value
            : throw SafeTensorsException.ForTensor(file, name, $"missing required field '{field}'");

    private static int[] ReadShape(JsonElement el, string name, string file)
    {
        if (el.ValueKind != JsonValueKind.Array)
            throw SafeTensorsException.ForTensor(file, name, $"field 'shape' must be an array of integers (found {el.ValueKind})");
        var shape = new int[el.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in el.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v))
                throw SafeTensorsException.ForTensor(file, name, $"field 'shape' must be an array of integers (element {i} is {d})");
            if (v < 0)
                throw SafeTensorsException.ForTensor(file, name, $"shape has negative dimension {v} at index {i}");
            if (v > int.MaxValue)
                throw SafeTensorsException.ForTensor(file, name, $"shape dimension {v} at index {i} overflows a 32-bit int");
            shape[i++] = (int)v;
        }
        return shape;
    }

    private static (long, long) ReadOffsets(JsonElement el, string name, string file)
    {
        const string expected = "field 'data_offsets' must be an array of exactly two non-negative integers";
        if (el.ValueKind != JsonValueKind.Array || el.GetArrayLength() != 2)
            throw SafeTensorsException.ForTensor(file, name, $"{expected} (found {el})");
        Span<long> v = stackalloc long[2];
        for (int i = 0; i < 2; i++)
        {
            JsonElement x = el[i];
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out v[i]) || v[i] < 0)
                throw SafeTensorsException.ForTensor(file, name, $"{expected} (found {el})");
        }
        return (v[0], v[1]);
    }

    private static long ElementCount(int[] shape, string name, string file)
    {
        try
        {
            return TensorInfo.Product(shape);
        }
        catch (OverflowException)
        {
            throw SafeTensorsException.ForTensor(file, name, $"element count of shape [{string.Join(", ", shape)}] overflows");
        }
    }

    private static void CheckNoOverlap(IEnumerable<TensorInfo> tensors, string file)
    {
        // Empty tensors occupy no bytes, so they cannot collide with anything wherever their offset points.
        TensorInfo[] sorted = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            TensorInfo prev = sorted[i - 1], cur = sorted[i];
            if (cur.Begin < prev.End)
                throw SafeTensorsException.ForFile(file,
                    $"byte ranges of tensors '{prev.Name}' [{prev.Begin}, {prev.End}] and '{cur.Name}' [{cur.Begin}, {cur.End}] overlap");
        }
    }
}
