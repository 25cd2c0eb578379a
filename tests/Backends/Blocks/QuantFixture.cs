using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends.Blocks;

/// <summary>
/// One file written by tools/quant-fixtures from llama.cpp's libggml-base: "DSQF", ggml type,
/// rows, cols (int32 each); then source f32 (rows * cols), ggml_quantize_chunk's blocks,
/// to_float of those blocks (f32); then random blocks and to_float of them.
/// </summary>
internal sealed record QuantFixture(WeightFormat Format, int Rows, int Cols, float[] Source, byte[] Quantized, float[] RoundTrip,
    byte[] RandomBlocks, float[] RandomValues)
{
    public static QuantFixture Load(WeightFormat format)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Backends", "Blocks", "Fixtures", format.ToString().ToLowerInvariant() + ".bin");
        using var r = new BinaryReader(File.OpenRead(path));
        Assert.Equal("DSQF"u8.ToArray(), r.ReadBytes(4));
        r.ReadInt32();
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        int bytes = rows * BlockFormats.RowBytes(format, cols);
        float[] Floats() => Enumerable.Range(0, rows * cols).Select(_ => r.ReadSingle()).ToArray();
        var fixture = new QuantFixture(format, rows, cols, Floats(), r.ReadBytes(bytes), Floats(), r.ReadBytes(bytes), Floats());
        Assert.Equal(r.BaseStream.Length, r.BaseStream.Position);
        return fixture;
    }
}
