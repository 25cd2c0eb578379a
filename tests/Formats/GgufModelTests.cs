using DistillSpec.Backends;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using DistillSpec.Models.Architectures;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Formats;

/// <summary>GGUF import: export then import every architecture in every type, and the model it loads.</summary>
public class GgufModelTests
{
    public static TheoryData<string, GgmlType> ArchitecturesAndTypes()
    {
        var data = new TheoryData<string, GgmlType>();
        foreach (string a in new[] { "llama", "qwen2", "phi3", "gpt2" })
            foreach (var t in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1 }) data.Add(a, t);
        return data;
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void KQuantFile_LoadsItsBlocksAsStored(GgmlType type)
    {
        // Hidden and intermediate 256: rows of whole super-blocks.
        using var dir = new TempDirectory();
        string model = dir.File("llama");
        RandomModel.Create(model, RandomModel.ConfigFor("llama", hidden: 256, layers: 1, heads: 4, kvHeads: 2, intermediate: 256, vocab: 260,
            context: 16, tied: false), seed: 12);
        string gguf = dir.File("k.gguf");
        GgufExporter.Build(model, type).Save(gguf);

        var file = GgufFile.Open(gguf);
        var imported = GgufModel.ReadWeights(file, GgufModel.ReadConfig(file));
        var expected = HfCheckpoint.Load(model, ModelConfig.Load(model));
        foreach (var t in ModelArchitectures.Of(ModelConfig.Load(model)).GgufTensors(expected))
            if (t.Shape.Length == 2)
            {
                var values = t.Export();
                GgmlCodec.ToSingle(type, GgmlCodec.FromSingle(type, values), values);
                t.Import(values);
            }
        foreach (var ((name, want, _), (_, got, _)) in expected.Parameters().Zip(imported.Parameters()))
            Assert.True(want.AsSpan().SequenceEqual(got), $"{type}: parameter {name} differs");
        Assert.All(file.Tensors, t => Assert.Equal(t.Dimensions.Length == 2 ? type : GgmlType.F32, t.Type));
    }

    // Hidden 32 and intermediate 64 are whole Q8_0 blocks; untied so output.weight is exercised (GPT-2 is always tied).
    internal static string WriteRandom(TempDirectory dir, string architecture)
    {
        string path = dir.File(architecture);
        RandomModel.Create(path, RandomModel.ConfigFor(architecture, hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 64, vocab: 260,
            context: 64, tied: false), seed: 11);
        return path;
    }

    [Theory]
    [MemberData(nameof(ArchitecturesAndTypes))]
    public void Export_ThenImport_GivesTheConfigTheStoredWeightsAndTheirLogits(string architecture, GgmlType type)
    {
        using var dir = new TempDirectory();
        string model = WriteRandom(dir, architecture);
        string gguf = dir.File(architecture + ".gguf");
        GgufExporter.Build(model, type).Save(gguf);
        var config = ModelConfig.Load(model);
        var weights = HfCheckpoint.Load(model, config);

        var file = GgufFile.Open(gguf);
        var imported = GgufModel.ReadConfig(file);
        var importedWeights = GgufModel.ReadWeights(file, imported);

        Assert.Equal(config, imported);
        Assert.Equal(architecture, file.Get<string>("general.architecture"));
        Assert.All(file.Tensors, t => Assert.Equal(t.Dimensions.Length == 2 ? type : GgmlType.F32, t.Type));
        // What the file must hold: each stored tensor of ours through the type's encoding and back.
        var expected = HfCheckpoint.Load(model, config);
        foreach (var t in ModelArchitectures.Of(config).GgufTensors(expected))
            if (t.Shape.Length == 2)
            {
                var values = t.Export();
                GgmlCodec.ToSingle(type, GgmlCodec.FromSingle(type, values), values);
                t.Import(values);
            }
        foreach (var ((name, want, _), (_, got, _)) in expected.Parameters().Zip(importedWeights.Parameters()))
            Assert.True(want.AsSpan().SequenceEqual(got), $"{architecture} {type}: parameter {name} differs");

        float[] ours = Logits(config, expected), theirs = Logits(imported, importedWeights);
        Assert.Equal(ours, theirs);
        if (type == GgmlType.F32) Assert.Equal(Logits(config, weights), theirs);
        Assert.Equal(TextTokenizer.Load(model).Encode("héllo wörld 123", true), TextTokenizer.Load(gguf).Encode("héllo wörld 123", true));
    }

    private static float[] Logits(ModelConfig config, ModelWeights weights)
    {
        using var transformer = new Transformer(config, weights, new ScalarBackend());
        int[] tokens = [256, 104, 101, 108, 108, 111, 32, 119];
        var logits = new float[tokens.Length * config.VocabSize];
        transformer.Forward(tokens, 0, transformer.CreateCache(), logits);
        return logits;
    }

    [Fact]
    public void Gguf_LoadsAsAModelWithTokenizerAndChatTemplate()
    {
        using var dir = new TempDirectory();
        string model = WriteRandom(dir, "qwen2");
        File.WriteAllText(Path.Combine(model, "tokenizer_config.json"), """{"chat_template": "{% for m in messages %}<{{ m.content }}>{% endfor %}"}""");
        string gguf = dir.File("m.gguf");
        GgufExporter.Build(model, GgmlType.Q8_0).Save(gguf);

        using var loaded = LanguageModel.Load(gguf, new ScalarBackend(), WeightFormat.Q8_0);
        var template = DistillSpec.Chat.ChatTemplate.FromModelDirectory(gguf);

        Assert.Equal("Qwen2ForCausalLM", loaded.Config.ArchitectureName);
        Assert.Equal(256, loaded.Tokenizer.BosId);
        Assert.Equal("hi", loaded.Tokenizer.Decode(loaded.Tokenizer.Encode("hi", addBos: false)));
        Assert.Equal("<hi>", template!.Render([new DistillSpec.Chat.ChatMessage("user", "hi")]));
    }
}
