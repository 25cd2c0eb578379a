using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.SafeTensors;

public class SafeTensorsMalformedFileTests
{
    private const string F32x2 = "\"dtype\":\"F32\",\"shape\":[2]";

    public static TheoryData<string, string, string?> Cases => new()
    {
        // case, distinctive phrase, tensor the message must name (null: file-level problem)
        { "empty", "truncated", null },
        { "truncated", "truncated", null },
        { "header past end", "extends past the end of the file", null },
        { "header too large", "exceeds the cap", null },
        { "bad json", "not valid JSON", null },
        { "not an object", "not a JSON object", null },
        { "entry not an object", "entry must be a JSON object", "w" },
        { "missing dtype", "missing required field 'dtype'", "w" },
        { "missing shape", "missing required field 'shape'", "w" },
        { "missing data_offsets", "missing required field 'data_offsets'", "w" },
        { "dtype not a string", "field 'dtype' must be a string", "w" },
        { "shape not an array", "field 'shape' must be an array of integers", "w" },
        { "shape has a fraction", "field 'shape' must be an array of integers", "w" },
        { "offsets wrong arity", "must be an array of exactly two", "w" },
        { "unknown dtype", "unsupported dtype 'I64'; supported dtypes are F32, F16, BF16", "w" },
        { "negative dim", "negative dimension", "w" },
        { "dim too large", "overflows a 32-bit int", "w" },
        { "shape overflow", "element count of shape", "w" },
        { "shape/size mismatch", "shape/size mismatch", "w" },
        { "begin after end", "out of bounds: begin is after end", "w" },
        { "end past data", "out of bounds: end is beyond the data section", "w" },
        { "overlap", "overlap", "b" },
        { "bad metadata", "'__metadata__' entry 'k' must be a string", null },
        { "duplicate tensor", "duplicate tensor name", "w" },
    };

    private static byte[] Build(string name) => name switch
    {
        "empty" => [],
        "truncated" => [1, 2, 3, 4, 5],
        "header past end" => SafeTensorBytes.WithPrefix(1000, "{}"),
        "header too large" => SafeTensorBytes.WithPrefix(200_000_000, "{}"),
        "bad json" => SafeTensorBytes.Raw("{\"w\": {", 0),
        "not an object" => SafeTensorBytes.Raw("[1, 2]", 0),
        "entry not an object" => SafeTensorBytes.Raw("{\"w\": 5}", 0),
        "missing dtype" => SafeTensorBytes.Raw("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
        "missing shape" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8),
        "missing data_offsets" => SafeTensorBytes.Raw($"{{\"w\":{{{F32x2}}}}}", 8),
        "dtype not a string" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":3,\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
        "shape not an array" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8),
        "shape has a fraction" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8),
        "offsets wrong arity" => SafeTensorBytes.Raw($"{{\"w\":{{{F32x2},\"data_offsets\":[0]}}}}", 8),
        "unknown dtype" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8),
        "negative dim" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
        "dim too large" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,8]}}", 8),
        "shape overflow" => SafeTensorBytes.Raw(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8),
        "shape/size mismatch" => SafeTensorBytes.Raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12),
        "begin after end" => SafeTensorBytes.Raw($"{{\"w\":{{{F32x2},\"data_offsets\":[8,0]}}}}", 8),
        "end past data" => SafeTensorBytes.Raw($"{{\"w\":{{{F32x2},\"data_offsets\":[0,8]}}}}", 4),
        "overlap" => SafeTensorBytes.Raw(
            $"{{\"a\":{{{F32x2},\"data_offsets\":[0,8]}},\"b\":{{{F32x2},\"data_offsets\":[4,12]}}}}", 12),
        "bad metadata" => SafeTensorBytes.Raw("{\"__metadata__\":{\"k\":1}}", 0),
        "duplicate tensor" => SafeTensorBytes.Raw(
            $"{{\"w\":{{{F32x2},\"data_offsets\":[0,8]}},\"w\":{{{F32x2},\"data_offsets\":[8,16]}}}}", 16),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Open_RejectsMalformedFile_WithSpecificMessage(string name, string phrase, string? tensor)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad-" + name.Replace(' ', '_').Replace('/', '_') + ".safetensors");
        File.WriteAllBytes(path, Build(name));

        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path).Dispose());

        Assert.Contains(Path.GetFileName(path), ex.Message);
        Assert.Contains(phrase, ex.Message);
        if (tensor is not null)
            Assert.Contains($"'{tensor}'", ex.Message);
    }

    [Fact]
    public void EveryCase_HasItsOwnBuilder_AndTheBuildersDiffer()
    {
        var built = Cases.Select(row => Convert.ToBase64String(Build((string)row[0]))).ToList();
        Assert.Equal(built.Count, built.Distinct().Count());
    }

    [Fact]
    public void Open_MissingFile_NamesThePath()
    {
        using var dir = new TempDirectory();
        string path = dir.File("absent.safetensors");
        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("absent.safetensors", ex.Message);
        Assert.Contains("cannot open", ex.Message);
    }

    [Fact]
    public void Open_AcceptsZeroSizedTensorInsideAnotherRange_AndPaddedHeader()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ok.safetensors");
        // A zero-sized tensor whose offset points inside another range is harmless and must not count as overlap.
        File.WriteAllBytes(path, SafeTensorBytes.Raw(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]}}  ", 8));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.Info("e").ElementCount);
        Assert.Empty(file.ReadFloat32("e"));
        Assert.Equal(2, file.ReadFloat32("w").Length);
    }
}
