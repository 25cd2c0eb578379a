using System.Text.Json;
using DistillSpec.Models;
using DistillSpec.Models.Architectures;

namespace DistillSpec.Tests.Models;

/// <summary>The architecture registry: one description per architecture, found by class name, model_type or llama.cpp name.</summary>
public class ArchitecturesTests
{
    private static ModelConfig Parse(string json) => ModelConfig.Parse(JsonDocument.Parse(json).RootElement, "config.json");

    private const string Shape = "\"vocab_size\": 300, \"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2";

    [Theory]
    [InlineData("llama", "LlamaForCausalLM")]
    [InlineData("mistral", "MistralForCausalLM")]
    [InlineData("qwen2", "Qwen2ForCausalLM")]
    [InlineData("phi3", "Phi3ForCausalLM")]
    public void ModelTypeAlone_NamesTheRegisteredClass(string modelType, string className)
    {
        var config = Parse($"{{\"model_type\": \"{modelType}\", {Shape}}}");

        Assert.Equal(className, config.ArchitectureName);
        Assert.Equal(modelType == "qwen2", config.AttentionBias);
    }

    [Fact]
    public void EveryClassIsRegisteredOnceAndSavesAConfigThatReadsBack()
    {
        Assert.Equal(ModelArchitectures.HfClassNames.Distinct().Count(), ModelArchitectures.HfClassNames.Count);
        using var dir = new TempDirectory();
        foreach (string name in ModelArchitectures.GgufNames)
        {
            var config = RandomModel.ConfigFor(name, hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: 300, tied: false);
            config.Save(dir.Path);
            Assert.Equal(config, ModelConfig.Load(dir.Path));
            Assert.Same(ModelArchitectures.ByGgufName(name), ModelArchitectures.Of(config));
        }
    }

    [Theory]
    [InlineData("\"partial_rotary_factor\": 0.75", "field 'partial_rotary_factor' is 0.75; only full rotary embeddings (1.0) are supported")]
    [InlineData("\"rope_scaling\": {\"type\": \"longrope\"}", "field 'rope_scaling' is set (LongRoPE); scaled rotary embeddings are not supported")]
    public void Phi3_RefusesWhatItCannotRunExactly(string field, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => Parse($"{{\"architectures\": [\"Phi3ForCausalLM\"], {Shape}, {field}}}"));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Phi3_SlidingWindow_BoundsTheContext()
    {
        var config = Parse($"{{\"architectures\": [\"Phi3ForCausalLM\"], {Shape}, \"max_position_embeddings\": 4096, \"sliding_window\": 2047}}");

        Assert.Equal(2047, config.MaxPositions);
    }
}
