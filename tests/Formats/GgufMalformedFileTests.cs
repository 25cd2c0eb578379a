using DistillSpec.Formats.Gguf;
using DistillSpec.Models;

namespace DistillSpec.Tests.Formats;

public class GgufMalformedFileTests
{
    public static TheoryData<string, string> Cases => new()
    {
        // case, distinctive phrase of the message
        { "empty", "only 0 bytes long" },
        { "bad magic", "not a GGUF file" },
        { "version 1", "GGUF version 1 is not supported" },
        { "truncated metadata", "truncated: the file ends at byte" },
        { "huge tensor count", "tensor count is 1099511627776, more than" },
        { "huge string", "length of key of metadata entry 0 is" },
        { "unknown value type", "metadata 'k' has unknown value type 99" },
        { "nested array", "array of arrays" },
        { "bad bool", "GGUF bools are 0 or 1" },
        { "duplicate key", "duplicate metadata key 'k'" },
        { "bad alignment", "general.alignment must be a uint32 power of two" },
        { "no dimensions", "tensor 'w' has 0 dimensions" },
        { "five dimensions", "tensor 'w' has 5 dimensions" },
        { "zero dimension", "dimension 0 of size 0" },
        { "huge dimension", "tensor 'w' has dimension 1 of size 1099511627776; sizes must be in 1..2147483647" },
        { "huge element count", "tensor 'w' has more than 2147483647 elements" },
        { "quantised type", "tensor 'w' has type Q4_1 (3), which this reader does not support; supported: F32 (0), F16 (1), Q4_0 (2), Q5_0 (6), Q5_1 (7), Q8_0 (8), Q4_K (12), Q5_K (13), Q6_K (14), BF16 (30)" },
        { "unknown type", "tensor 'w' has type unknown ggml type 99" },
        { "partial block", "tensor 'w' is Q8_0 with rows of 48 values, not a whole number of 32-value blocks" },
        { "misaligned offset", "tensor 'w' starts at data offset 4, which is not a multiple of the alignment 32" },
        { "data past end", "tensor 'w': data [0, 16) of the data section" },
        { "duplicate tensor", "duplicate tensor name 'w'" },
        { "overlap", "tensors 'a' and 'b' overlap" },
    };

    private static byte[] Build(string name) => name switch
    {
        "empty" => [],
        "bad magic" => new GgufBytes().Header(0, 0, magic: "GGML").ToArray(),
        "version 1" => new GgufBytes().Header(0, 0, version: 1).ToArray(),
        "truncated metadata" => new GgufBytes().Header(0, 1).String("k").U32(4).Byte(1).ToArray(),
        "huge tensor count" => new GgufBytes().Header(1ul << 40, 0).ToArray(),
        "huge string" => new GgufBytes().Header(0, 1).U64(1ul << 50).U64(0).U64(0).ToArray(),
        "unknown value type" => new GgufBytes().Header(0, 1).String("k").U32(99).U32(0).ToArray(),
        "nested array" => new GgufBytes().Header(0, 1).String("k").U32(9).U32(9).U64(0).ToArray(),
        "bad bool" => new GgufBytes().Header(0, 1).String("k").U32(7).Byte(2).ToArray(),
        "duplicate key" => new GgufBytes().Header(0, 2).KvU32("k", 1).KvU32("k", 2).ToArray(),
        "bad alignment" => new GgufBytes().Header(0, 1).KvU32("general.alignment", 3).ToArray(),
        "no dimensions" => new GgufBytes().Header(1, 0).Tensor("w", [], 0, 0).Data(4).ToArray(),
        "five dimensions" => new GgufBytes().Header(1, 0).Tensor("w", [1, 1, 1, 1, 1], 0, 0).Data(4).ToArray(),
        "zero dimension" => new GgufBytes().Header(1, 0).Tensor("w", [0], 0, 0).Data(4).ToArray(),
        "huge dimension" => new GgufBytes().Header(1, 0).Tensor("w", [4, 1ul << 40], 0, 0).Data(16).ToArray(),
        "huge element count" => new GgufBytes().Header(1, 0).Tensor("w", [65536, 65536], 0, 0).Data(16).ToArray(),
        "quantised type" => new GgufBytes().Header(1, 0).Tensor("w", [256], 3, 0).Data(160).ToArray(),
        "unknown type" => new GgufBytes().Header(1, 0).Tensor("w", [32], 99, 0).Data(34).ToArray(),
        "partial block" => new GgufBytes().Header(1, 0).Tensor("w", [48], 8, 0).Data(68).ToArray(),
        "misaligned offset" => new GgufBytes().Header(1, 0).Tensor("w", [1], 0, 4).Data(8).ToArray(),
        "data past end" => new GgufBytes().Header(1, 0).Tensor("w", [4], 0, 0).Data(12).ToArray(),
        "duplicate tensor" => new GgufBytes().Header(2, 0).Tensor("w", [1], 0, 0).Tensor("w", [1], 0, 32).Data(36).ToArray(),
        "overlap" => new GgufBytes().Header(2, 0).Tensor("a", [16], 0, 0).Tensor("b", [1], 0, 32).Data(64).ToArray(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedFile_IsRejectedWithAMessageNamingTheFile(string name, string phrase)
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.gguf");
        File.WriteAllBytes(path, Build(name));

        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(phrase, e.Message);
    }

    [Fact]
    public void MissingFile_IsRejectedWithItsPath()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(dir.File("absent.gguf")));
        Assert.Contains("absent.gguf: file not found", e.Message);
    }

    [Fact]
    public void WellFormedHandAssembledFile_IsAccepted()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ok.gguf");
        File.WriteAllBytes(path, new GgufBytes().Header(1, 1).KvU32("k", 5).Tensor("w", [2], 0, 0).Data(8).ToArray());

        var file = GgufFile.Open(path);

        Assert.Equal(5u, file.Get<uint>("k"));
        Assert.Equal([0f, 0f], file.ReadFloat32("w"));
    }
}
