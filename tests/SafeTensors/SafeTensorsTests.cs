using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.SafeTensors;

public class SafeTensorsTests
{
    private static float[] RandomValues(int n, int seed, float scale = 10f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return v;
    }

    private static void AssertRelativelyClose(float[] expected, float[] actual, float relTol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = Math.Abs(expected[i]) * relTol + 1e-6f;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void RoundTrip_F32_IsBitExact_IncludingSpecialValues()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f32.safetensors");
        float[] values = [0f, -0f, 1.5f, -3.25e-40f, float.Epsilon, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 123.456f, -7f, 1e-20f];
        new SafeTensorsWriter().Add("w", values, [3, 4]).Save(path);

        using var file = SafeTensorsFile.Open(path);
        TensorInfo info = file.Info("w");
        Assert.Equal(DType.F32, info.DType);
        Assert.Equal(new[] { 3, 4 }, info.Shape);
        Assert.Equal(12, info.ElementCount);
        Assert.Equal(48, file.Bytes("w").Length);
        float[] back = file.ReadFloat32("w");
        Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), MemoryMarshal.AsBytes(back.AsSpan()).ToArray());
    }

    [Fact]
    public void RoundTrip_F16_WithinHalfPrecision_AndExactForRepresentableValues()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f16.safetensors");
        float[] random = RandomValues(1000, 1);
        float[] exact = [0f, 1f, -2f, 0.5f, 65504f, -0.000061035156f, 3.140625f, float.PositiveInfinity];
        new SafeTensorsWriter()
            .Add("random", random, [10, 100], DType.F16)
            .Add("exact", exact, [8], DType.F16)
            .Save(path);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(DType.F16, file.Info("random").DType);
        Assert.Equal(2000, file.Bytes("random").Length);
        AssertRelativelyClose(random, file.ReadFloat32("random"), 1f / 2048);
        Assert.Equal(exact, file.ReadFloat32("exact"));
    }

    [Fact]
    public void RoundTrip_BF16_WithinBf16Precision_AndExactForRepresentableValues()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bf16.safetensors");
        float[] random = RandomValues(1001, 2, scale: 1e6f);
        float[] exact = [0f, 1f, -2f, 0.5f, 1.5f, 1.0078125f, float.NegativeInfinity, 65536f];
        new SafeTensorsWriter()
            .Add("random", random, [7, 11, 13], DType.BF16)
            .Add("exact", exact, [2, 4], DType.BF16)
            .Save(path);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(DType.BF16, file.Info("random").DType);
        AssertRelativelyClose(random, file.ReadFloat32("random"), 1f / 256);
        float[] back = new float[8];
        file.ReadFloat32("exact", back);
        Assert.Equal(exact, back);
    }

    [Fact]
    public void Reader_DecodesHandWrittenFile_IndependentOfWriter()
    {
        using var dir = new TempDirectory();
        string path = dir.File("hand.safetensors");
        // f32 2.0 = 0x40000000, f16 1.0 = 0x3C00, f16 -2.0 = 0xC000, bf16 1.0 = 0x3F80, bf16 -0.5 = 0xBF00
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
                        "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}," +
                        "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}," +
                        "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]}}";
        byte[] bytes = SafeTensorBytes.Raw(header, 12);
        Span<byte> data = bytes.AsSpan(bytes.Length - 12);
        BinaryPrimitives.WriteUInt32LittleEndian(data, 0x40000000);
        BinaryPrimitives.WriteUInt16LittleEndian(data[4..], 0x3C00);
        BinaryPrimitives.WriteUInt16LittleEndian(data[6..], 0xC000);
        BinaryPrimitives.WriteUInt16LittleEndian(data[8..], 0x3F80);
        BinaryPrimitives.WriteUInt16LittleEndian(data[10..], 0xBF00);
        File.WriteAllBytes(path, bytes);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(3, file.Tensors.Count);
        Assert.Equal(1, file.Info("a").ElementCount);
        Assert.Equal(new[] { 2f }, file.ReadFloat32("a"));
        Assert.Equal(new[] { 1f, -2f }, file.ReadFloat32("h"));
        Assert.Equal(new[] { 1f, -0.5f }, file.ReadFloat32("b"));
        Assert.Equal(new byte[] { 0x80, 0x3F, 0x00, 0xBF }, file.Bytes("b").ToArray());
    }

    [Fact]
    public void Metadata_RoundTrips_AndHeaderIsPaddedToEightBytes()
    {
        using var dir = new TempDirectory();
        string path = dir.File("meta.safetensors");
        new SafeTensorsWriter()
            .Metadata("format", "pt")
            .Metadata("note", "ünïcode \"quoted\" <tag>")
            .Metadata("format", "distillspec")
            .Add("x", [1f, 2f, 3f], [3])
            .Save(path);

        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(raw) % 8);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(2, file.Metadata.Count);
        Assert.Equal("distillspec", file.Metadata["format"]);
        Assert.Equal("ünïcode \"quoted\" <tag>", file.Metadata["note"]);
        Assert.False(file.Contains("__metadata__"));
    }

    [Fact]
    public void Writer_PlacesWiderTypesFirst_SoEveryTensorIsAligned_WithoutGaps()
    {
        using var dir = new TempDirectory();
        string path = dir.File("align.safetensors");
        new SafeTensorsWriter()
            .Add("odd_half", [1f, 2f, 3f], [3], DType.F16)
            .Add("f32", [4f, 5f], [2])
            .AddRaw("raw_bf16", DType.BF16, [1], [0x80, 0x3F])
            .Save(path);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.Info("f32").Begin);
        TensorInfo[] sorted = file.Tensors.Values.OrderBy(t => t.Begin).ToArray();
        for (int i = 1; i < sorted.Length; i++)
            Assert.Equal(sorted[i - 1].End, sorted[i].Begin);
        Assert.Equal(new[] { 4f, 5f }, file.ReadFloat32("f32"));
        Assert.Equal(new[] { 1f, 2f, 3f }, file.ReadFloat32("odd_half"));
        Assert.Equal(new[] { 1f }, file.ReadFloat32("raw_bf16"));
    }

    [Fact]
    public void Info_ForMissingTensor_NamesFileAndTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("one.safetensors");
        new SafeTensorsWriter().Add("present", [1f], [1]).Save(path);
        using var file = SafeTensorsFile.Open(path);

        Assert.True(file.Contains("present"));
        Assert.False(file.Contains("absent"));
        var ex = Assert.Throws<SafeTensorsException>(() => file.Info("absent"));
        Assert.Contains("one.safetensors", ex.Message);
        Assert.Contains("'absent'", ex.Message);
        Assert.Throws<SafeTensorsException>(() => file.ReadFloat32("absent"));
    }

    [Fact]
    public void ReadFloat32_WithWrongDestinationLength_ThrowsArgumentExceptionNamingTensor()
    {
        using var dir = new TempDirectory();
        string path = dir.File("len.safetensors");
        new SafeTensorsWriter().Add("weights", [1f, 2f, 3f, 4f], [2, 2], DType.BF16).Save(path);
        using var file = SafeTensorsFile.Open(path);

        var ex = Assert.Throws<ArgumentException>(() => file.ReadFloat32("weights", new float[3]));
        Assert.Contains("'weights'", ex.Message);
        Assert.Contains("4 elements", ex.Message);
    }

    [Fact]
    public void Bytes_AfterDispose_Throws()
    {
        using var dir = new TempDirectory();
        string path = dir.File("disposed.safetensors");
        new SafeTensorsWriter().Add("w", [1f], [1]).Save(path);
        var file = SafeTensorsFile.Open(path);
        file.Dispose();
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Bytes("w").Length);
    }

    [Fact]
    public void Writer_RejectsBadInput_WithTensorName()
    {
        var w = new SafeTensorsWriter().Add("w", [1f, 2f], [2]);
        Assert.Contains("'w'", Assert.Throws<ArgumentException>(() => w.Add("w", [1f], [1])).Message);
        Assert.Contains("'m'", Assert.Throws<ArgumentException>(() => w.Add("m", [1f, 2f, 3f], [2, 2])).Message);
        Assert.Contains("'n'", Assert.Throws<ArgumentException>(() => w.Add("n", [], [-1])).Message);
        Assert.Contains("'r'", Assert.Throws<ArgumentException>(() => w.AddRaw("r", DType.F16, [2], new byte[3])).Message);
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", [1f], [1]));
    }

    [Fact]
    public void Save_OverExistingFile_ReplacesIt_AndLeavesNoTempFiles()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        new SafeTensorsWriter().Add("old", [1f], [1]).Save(path);
        new SafeTensorsWriter().Add("new", [2f, 3f], [2]).Save(path);

        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.False(file.Contains("old"));
            Assert.Equal(new[] { 2f, 3f }, file.ReadFloat32("new"));
        }
        Assert.Equal(new[] { "model.safetensors" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedAdd_BeforeSave_LeavesPreviousFileByteIdentical()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        new SafeTensorsWriter().Add("w", [1f, 2f], [2]).Metadata("v", "1").Save(path);
        byte[] before = File.ReadAllBytes(path);

        void Update() => new SafeTensorsWriter().Add("w", [9f, 9f, 9f], [2]).Save(path);

        Assert.Throws<ArgumentException>(Update);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void FailedSave_LeavesPreviousFileByteIdentical_AndCleansUpTemp()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        new SafeTensorsWriter().Add("w", [1f, 2f], [2]).Save(path);
        byte[] before = File.ReadAllBytes(path);
        var writer = new SafeTensorsWriter().Add("w", [5f, 6f], [2]);

        // A missing target directory is created (AtomicFile, as every engine write).
        writer.Save(dir.File(Path.Combine("missing", "model.safetensors")));
        Assert.True(File.Exists(dir.File(Path.Combine("missing", "model.safetensors"))));
        // Target is a directory: the temp file is written, but the final rename fails and must be cleaned up.
        string blocked = dir.File("blocked.safetensors");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<Exception>(() => writer.Save(blocked));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.safetensors" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
