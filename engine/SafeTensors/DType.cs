namespace DistillSpec.SafeTensors;

/// <summary>Element types this engine can load. Other safetensors dtypes are rejected at open time.</summary>
public enum DType { F32, F16, BF16 }

public static class DTypeInfo
{
    private const string Supported = "F32, F16, BF16";

    public static int SizeOf(DType t) => t switch
    {
        DType.F32 => 4,
        DType.F16 => 2,
        DType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unknown dtype."),
    };

    /// <summary>Parses a header dtype string; case-sensitive because the format spells them in upper case.</summary>
    public static DType Parse(string s, string file, string tensor) => s switch
    {
        "F32" => DType.F32,
        "F16" => DType.F16,
        "BF16" => DType.BF16,
        _ => throw SafeTensorsException.ForTensor(file, tensor, $"unsupported dtype '{s}'; supported dtypes are {Supported}"),
    };

    public static string Name(DType t) => t switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unknown dtype."),
    };
}
