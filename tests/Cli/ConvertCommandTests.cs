using DistillSpec.Backends;
using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.Cli;

[Collection("Console")]
public class ConvertCommandTests
{
    [Fact]
    public void Bf16CopyStoresMatricesAsBf16_KeepsVectorsF32_AndScoresTextAlmostTheSame()
    {
        using var dir = new TempDirectory();
        string converted = dir.File("bf16");

        int code = DistillSpec.Cli.Cli.Run(["convert", "-m", ShippedWeights.Tiny, "-o", converted], TextWriter.Null, TextWriter.Null);

        Assert.Equal(0, code);
        using (var file = SafeTensorsFile.Open(Path.Combine(converted, "model.safetensors")))
            foreach (var info in file.Tensors.Values)
                Assert.Equal(info.Shape.Length >= 2 ? DType.BF16 : DType.F32, info.DType);
        Assert.True(File.Exists(Path.Combine(converted, "tokenizer.json")));

        using var backend = new SimdBackend(1);
        using var original = LanguageModel.Load(ShippedWeights.Tiny, backend);
        using var copy = LanguageModel.Load(converted, backend);
        int[] ids = original.Tokenizer.Encode("def add(a, b):\n    return a + b\n", addBos: false);
        double before = SequenceScore.MeanNegativeLogLikelihood(original.Transformer, [0], ids);
        double after = SequenceScore.MeanNegativeLogLikelihood(copy.Transformer, [0], ids);
        Assert.NotEqual(before, after);
        Assert.InRange(Math.Abs(after - before) / before, 0, 0.01);
    }

    [Fact]
    public void WritingOntoTheInputIsRefused()
    {
        var error = new StringWriter();
        int code = DistillSpec.Cli.Cli.Run(["convert", "-m", ShippedWeights.Tiny, "-o", ShippedWeights.Tiny + "/"], TextWriter.Null, error);
        Assert.Equal(1, code);
        Assert.Contains("--output", error.ToString());
    }
}
