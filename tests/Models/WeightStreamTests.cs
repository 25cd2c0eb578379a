using DistillSpec.Backends;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using DistillSpec.Tests.Formats;

namespace DistillSpec.Tests.Models;

/// <summary>A model built layer by layer from its checkpoint computes exactly what one built from all its weights at once does.</summary>
public class WeightStreamTests
{
    public static TheoryData<string, WeightFormat, bool> Cases()
    {
        var data = new TheoryData<string, WeightFormat, bool>();
        foreach (string a in new[] { "llama", "phi3", "gpt2" })
            foreach (var f in new[] { WeightFormat.F32, WeightFormat.BF16, WeightFormat.Q8_0 })
                foreach (bool gguf in new[] { false, true }) data.Add(a, f, gguf);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamedLoad_GivesTheLogitsOfAWholeLoad(string architecture, WeightFormat format, bool gguf)
    {
        using var dir = new TempDirectory();
        string model = GgufModelTests.WriteRandom(dir, architecture);
        if (gguf)
        {
            GgufExporter.Build(model).Save(dir.File("m.gguf"));
            model = dir.File("m.gguf");
        }
        var config = ModelConfig.Load(model);
        using var whole = new Transformer(config, ModelWeights.Load(model, config), new ScalarBackend(), format);
        using var streamed = LanguageModel.Load(model, new ScalarBackend(), format);

        Assert.Equal(Logits(whole), Logits(streamed.Transformer));
    }

    private static float[] Logits(Transformer t)
    {
        int[] tokens = [256, 104, 105, 33, 10];
        var logits = new float[tokens.Length * t.VocabSize];
        t.Forward(tokens, 0, t.CreateCache(), logits);
        return logits;
    }
}
