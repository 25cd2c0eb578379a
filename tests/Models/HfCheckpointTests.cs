using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.Models;

public sealed class HfCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hf-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory, MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void SaveThenLoadRoundTripsEveryParameter(string name)
    {
        var config = TinyModels.ByName(name);
        var weights = ModelWeights.Random(config, seed: 21);
        HfCheckpoint.Save(weights, _dir);
        var loadedConfig = ModelConfig.Load(_dir);
        Assert.Equal(config, loadedConfig);
        var loaded = HfCheckpoint.Load(_dir, loadedConfig);
        var expected = weights.Parameters().ToList();
        var actual = loaded.Parameters().ToList();
        Assert.Equal(expected.Select(p => p.Name), actual.Select(p => p.Name));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Data, actual[i].Data);
    }

    [Fact]
    public void Gpt2UsesHuggingFaceNamesAndConv1DLayout()
    {
        var config = TinyModels.Gpt2();
        var weights = ModelWeights.Random(config, seed: 5);
        HfCheckpoint.Save(weights, _dir);
        using var file = SafeTensorsFile.Open(Path.Combine(_dir, "model.safetensors"));
        var fused = file.ReadFloat32("transformer.h.0.attn.c_attn.weight");
        Assert.Equal([32, 96], file.Info("transformer.h.0.attn.c_attn.weight").Shape);
        // Conv1D stores (in, out): element [i, o] of c_attn is key row o, input i for o in [32, 64).
        int i = 3, o = 5;
        Assert.Equal(weights.Layers[0].Key[o * 32 + i], fused[i * 96 + 32 + o]);
    }

    [Fact]
    public void Bf16CheckpointLoadsWithinBf16Precision()
    {
        var config = TinyModels.Llama();
        var weights = ModelWeights.Random(config, seed: 2);
        HfCheckpoint.Save(weights, _dir, DType.BF16);
        var loaded = HfCheckpoint.Load(_dir, ModelConfig.Load(_dir));
        for (int k = 0; k < weights.Embedding.Length; k++)
            Assert.InRange(loaded.Embedding[k] - weights.Embedding[k], -Math.Abs(weights.Embedding[k]) / 128, Math.Abs(weights.Embedding[k]) / 128);
    }

    [Fact]
    public void MissingOrMisshapedTensorsNameTheTensor()
    {
        var config = TinyModels.Llama();
        HfCheckpoint.Save(ModelWeights.Random(config, seed: 2), _dir);
        var wider = config with { IntermediateSize = 64 };
        var error = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(_dir, wider));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", error.Message);
        Assert.Contains("expected [64, 32]", error.Message);

        var untied = TinyModels.Llama(tied: true) with { TiedEmbeddings = false };
        HfCheckpoint.Save(ModelWeights.Random(TinyModels.Llama(tied: true), seed: 2), _dir);
        Assert.Contains("lm_head.weight", Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(_dir, untied)).Message);
    }

    [Theory]
    [InlineData("{\"architectures\": [\"BertModel\"]}", "architecture 'BertModel' is not supported")]
    [InlineData("{\"hidden_size\": 8}", "missing field 'architectures'")]
    [InlineData("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8}", "missing field 'vocab_size'")]
    [InlineData("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": \"big\"}", "field 'vocab_size' must be an integer")]
    [InlineData("{\"architectures\": [\"GPT2LMHeadModel\"], \"vocab_size\": 10, \"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2}", "missing field 'n_ctx'")]
    [InlineData("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": 3}", "multiple of num_key_value_heads")]
    [InlineData("{not json", "not valid JSON")]
    public void BadConfigsGiveErrorsNamingTheField(string json, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), json);
        var error = Assert.Throws<ModelFormatException>(() => ModelConfig.Load(_dir));
        Assert.Contains(expected, error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void ReadsHuggingFaceConfigFieldsForEachFamily()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """
            {"architectures": ["Qwen2ForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2, "rope_theta": 1000000.0,
             "rms_norm_eps": 1e-6, "tie_word_embeddings": true, "max_position_embeddings": 512, "eos_token_id": [5, 6]}
            """);
        var c = ModelConfig.Load(_dir);
        Assert.Equal((Architecture.Llama, 8, 2, 8, 1000000f, true, true, false), (c.Architecture, c.Heads, c.KvHeads, c.HeadDim, c.RopeTheta, c.TiedEmbeddings, c.AttentionBias, c.OutputBias));
        Assert.Equal([5, 6], c.EosTokenIds);
    }
}
