using DistillSpec.Backends;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;

namespace DistillSpec.Tests.Formats;

/// <summary>
/// Quantized GGUF matrices are taken as stored: the blocks a file holds are the blocks the kernels read, with
/// llama.cpp's rope row order and fused tensors mapped back row by row, never decoded and quantized again.
/// </summary>
public class GgufStoredBlocksTests
{
    public static TheoryData<string, GgmlType, int> Cases()
    {
        var data = new TheoryData<string, GgmlType, int>();
        foreach (string a in new[] { "llama", "qwen2", "phi3", "gpt2" })
            foreach (var t in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1 }) data.Add(a, t, 32);
        foreach (var t in new[] { GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K }) data.Add("llama", t, 256);
        // 128: only the down projection's rows (256) are whole super-blocks; the rest fall back on export and at load alike.
        foreach (var t in new[] { GgmlType.Q4_K, GgmlType.Q6_K }) data.Add("llama", t, 128);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KeptBlocks_GiveTheLogitsOfTheSameQuantizationDoneAtLoad(string architecture, GgmlType type, int hidden)
    {
        // Quantizing our f32 matrices at load and exporting them quantized make the same blocks (the same
        // quantizer, row by row), so a file whose blocks are taken as stored must give bit-identical logits.
        using var dir = new TempDirectory();
        string model = dir.File(architecture);
        RandomModel.Create(model, RandomModel.ConfigFor(architecture, hidden, layers: 2, heads: 4, kvHeads: 2, intermediate: 2 * hidden, vocab: 260,
            context: 16, tied: false), seed: 5);
        string gguf = dir.File("m.gguf");
        GgufExporter.Build(model, type).Save(gguf);
        var format = GgmlTypes.BlockFormat(type)!.Value;
        // GPT-2's learned positions are a matrix in the file, quantized too, but added as f32: give ours the same values.
        var weights = HfCheckpoint.Load(model, ModelConfig.Load(model));
        if (weights.Positions is { } positions)
        {
            GgmlCodec.ToSingle(type, GgmlCodec.FromSingle(type, positions), positions);
            HfCheckpoint.Save(weights, model);
        }

        var quantizedAtLoad = Logits(model, format, ModelLoadOptions.Default);
        var kept = Logits(gguf, WeightFormat.F32, ModelLoadOptions.Default);
        var converted = Logits(gguf, WeightFormat.F32, new ModelLoadOptions { KeepQuantized = false });

        Assert.Equal(quantizedAtLoad, kept);
        // Widened to f32, the same weights multiply f32 activations instead of 8-bit ones: close, not equal.
        Assert.NotEqual(kept, converted);
        Assert.InRange(MaxRelative(kept, converted), 0, 0.1);
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_K, GgmlType.Q5_1)]
    [InlineData(GgmlType.Q6_K, GgmlType.Q8_0)]
    public void KQuantExport_FallsBackOnRowsThatAreNotWholeSuperBlocks(GgmlType type, GgmlType fallback)
    {
        using var dir = new TempDirectory();
        string model = dir.File("llama");
        RandomModel.Create(model, RandomModel.ConfigFor("llama", 128, layers: 1, heads: 4, kvHeads: 2, intermediate: 256, vocab: 260, context: 16, tied: false), seed: 5);
        string gguf = dir.File("m.gguf");
        GgufExporter.Build(model, type).Save(gguf);
        var file = GgufFile.Open(gguf);
        Assert.Equal(type, file.Tensor("blk.0.ffn_down.weight").Type);
        Assert.Equal(fallback, file.Tensor("blk.0.ffn_up.weight").Type);
        Assert.Equal(fallback, file.Tensor("blk.0.attn_q.weight").Type);
        Assert.Equal(GgmlType.F32, file.Tensor("blk.0.attn_norm.weight").Type);
    }

    [Fact]
    public void ScanWeights_StillChecksMatricesTakenAsStored()
    {
        using var dir = new TempDirectory();
        string model = dir.File("llama");
        RandomModel.Create(model, RandomModel.ConfigFor("llama", 32, layers: 1, heads: 4, kvHeads: 2, intermediate: 64, vocab: 260, context: 16, tied: false), seed: 5);
        string gguf = dir.File("m.gguf");
        GgufExporter.Build(model, GgmlType.Q8_0).Save(gguf);
        // A Q8_0 block is an f16 scale then 32 int8s; the first block of ffn_down gets an infinite scale.
        var file = GgufFile.Open(gguf);
        long at = file.DataOffset + file.Tensor("blk.0.ffn_down.weight").Offset;
        using (var stream = File.OpenWrite(gguf)) { stream.Position = at; stream.Write(BitConverter.GetBytes(Half.PositiveInfinity)); }

        var error = Assert.Throws<ModelFormatException>(() => LanguageModel.Load(gguf, new SimdBackend(1), options: new ModelLoadOptions { ScanWeights = true }));
        Assert.Contains("blk.0.ffn_down.weight", error.Message);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void OneLlamaModel_GivesBitIdenticalLogitsInEveryLlamaFamilyLayout(GgmlType type)
    {
        // Qwen2 with zero biases and Phi-3's fused projections compute Llama's function from the same blocks
        // (llama's rope row order and phi3's fusion are undone row by row at load), so nothing may differ.
        using var dir = new TempDirectory();
        string llama = dir.File("llama");
        RandomModel.Create(llama, RandomModel.ConfigFor("llama", 256, layers: 2, heads: 4, kvHeads: 2, intermediate: 512, vocab: 260, context: 16, tied: false), seed: 5);
        var weights = HfCheckpoint.Load(llama, ModelConfig.Load(llama));
        float[]? expected = null;
        foreach (string architecture in new[] { "llama", "qwen2", "phi3" })
        {
            string model = dir.File("model-" + architecture);
            HfCheckpoint.Save(DistillSpec.Models.Architectures.LlamaFamilyLayouts.As(weights, architecture)!, model);
            ModelFiles.CopyTokenizerFiles(llama, model);
            string gguf = dir.File(architecture + ".gguf");
            GgufExporter.Build(model, type).Save(gguf);
            var logits = Logits(gguf, WeightFormat.F32, ModelLoadOptions.Default);
            if (expected is null) expected = logits;
            else Assert.Equal(expected, logits);
        }
        Assert.Null(DistillSpec.Models.Architectures.LlamaFamilyLayouts.As(weights, "gpt2"));
    }

    private static float[] Logits(string path, WeightFormat format, ModelLoadOptions options)
    {
        using var backend = new SimdBackend(1);
        using var model = LanguageModel.Load(path, backend, format, options);
        int[] tokens = [256, 104, 101, 108, 108, 111, 32, 119];
        var logits = new float[tokens.Length * model.Config.VocabSize];
        model.Transformer.Forward(tokens, 0, model.Transformer.CreateCache(), logits);
        return logits;
    }

    private static double MaxRelative(float[] a, float[] b)
    {
        double scale = a.Max(Math.Abs);
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max() / scale;
    }
}

/// <summary>A BF16 checkpoint loaded as BF16 keeps its bits: the same logits as an f32 copy of it rounded at load.</summary>
public class Bf16StoredTests
{
    [Fact]
    public void Bf16Checkpoint_LoadedAsBf16_MatchesRoundingAnF32CopyAtLoad()
    {
        using var dir = new TempDirectory();
        string bf16 = dir.File("bf16"), f32 = dir.File("f32");
        var config = RandomModel.ConfigFor("qwen2", 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: 260, context: 16, tied: false);
        RandomModel.Create(bf16, config, seed: 9, DistillSpec.SafeTensors.DType.BF16);
        RandomModel.Create(f32, config, seed: 9);
        HfCheckpoint.Save(HfCheckpoint.Load(bf16, ModelConfig.Load(bf16)), f32);

        using var backend = new SimdBackend(1);
        using var kept = LanguageModel.Load(bf16, backend, WeightFormat.BF16);
        using var rounded = LanguageModel.Load(f32, backend, WeightFormat.BF16);
        int[] tokens = [256, 104, 101, 108, 108, 111];
        var a = new float[tokens.Length * 260];
        var b = new float[tokens.Length * 260];
        kept.Transformer.Forward(tokens, 0, kept.Transformer.CreateCache(), a);
        rounded.Transformer.Forward(tokens, 0, rounded.Transformer.CreateCache(), b);

        Assert.Equal(b, a);
        Assert.Equal([WeightFormat.BF16], kept.Transformer.MatrixFormats);
    }
}
