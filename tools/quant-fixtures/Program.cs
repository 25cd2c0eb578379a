using DistillSpec.Backends;
using DistillSpec.IO;
using DistillSpec.QuantFixtures;

// Writes, per block format, what llama.cpp's own code makes of known inputs, for
// tests/Backends/Blocks/BlockFormatTests.cs (see QuantFixture.cs there for the file layout):
//   quantize: f32 rows -> ggml_quantize_chunk's blocks -> to_float's f32;
//   dequantize: random block bytes (any scale, any quant) -> to_float's f32.
// Usage: quant-fixtures OUTPUT_DIR NATIVE_ROOT (run.sh passes both).
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: quant-fixtures OUTPUT_DIR NATIVE_ROOT");
    return 2;
}
Ggml.Load(args[1]);
Directory.CreateDirectory(args[0]);
(WeightFormat Format, int GgmlType, string GgmlName)[] formats =
[
    (WeightFormat.Q8_0, 8, "q8_0"), (WeightFormat.Q4_0, 2, "q4_0"), (WeightFormat.Q5_0, 6, "q5_0"), (WeightFormat.Q5_1, 7, "q5_1"),
    (WeightFormat.Q4_K, 12, "q4_K"), (WeightFormat.Q5_K, 13, "q5_K"), (WeightFormat.Q6_K, 14, "q6_K"),
];
const int Rows = 8, Cols = 256;
foreach (var (format, type, name) in formats)
{
    int blockWeights = BlockFormats.BlockWeights(format), blockBytes = BlockFormats.BlockBytes(format);
    Ggml.CheckTraits(type, name, blockWeights, blockBytes);
    int rowBytes = BlockFormats.RowBytes(format, Cols);
    float[] source = Inputs.Rows(Rows, Cols, seed: type);
    byte[] quantized = Ggml.Quantize(type, source, Rows, Cols, rowBytes);
    float[] roundTrip = Ggml.Dequantize(type, quantized, Rows * Cols);
    byte[] randomBlocks = Inputs.Blocks(format, Rows * Cols / blockWeights, seed: 100 + type);
    float[] randomValues = Ggml.Dequantize(type, randomBlocks, Rows * Cols);
    string path = Path.Combine(args[0], $"{name.ToLowerInvariant()}.bin");
    AtomicFile.Write(path, stream =>
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write("DSQF"u8);
        w.Write(type);
        w.Write(Rows);
        w.Write(Cols);
        foreach (float v in source) w.Write(v);
        w.Write(quantized);
        foreach (float v in roundTrip) w.Write(v);
        w.Write(randomBlocks);
        foreach (float v in randomValues) w.Write(v);
    });
    Console.WriteLine($"{path}: {format}, {Rows} x {Cols}, {new FileInfo(path).Length} bytes");
}
return 0;
