using DistillSpec.Models;

namespace DistillSpec.Tests.Models;

/// <summary>Random tiny configs covering both architectures, GQA, tied embeddings and biases.</summary>
internal static class TinyModels
{
    public static ModelConfig Llama(int kvHeads = 2, bool tied = false, string name = "LlamaForCausalLM", int vocab = 61) => new()
    {
        Architecture = Architecture.Llama,
        ArchitectureName = name,
        VocabSize = vocab,
        HiddenSize = 32,
        IntermediateSize = 48,
        Layers = 2,
        Heads = 4,
        KvHeads = kvHeads,
        HeadDim = 8,
        MaxPositions = 96,
        NormEps = 1e-5f,
        RopeTheta = 10000f,
        TiedEmbeddings = tied,
        AttentionBias = name == "Qwen2ForCausalLM",
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    public static ModelConfig Gpt2(int vocab = 61) => new()
    {
        Architecture = Architecture.Gpt2,
        ArchitectureName = "GPT2LMHeadModel",
        VocabSize = vocab,
        HiddenSize = 32,
        IntermediateSize = 128,
        Layers = 2,
        Heads = 4,
        KvHeads = 4,
        HeadDim = 8,
        MaxPositions = 96,
        NormEps = 1e-5f,
        TiedEmbeddings = true,
    };

    public static TheoryData<string> Names => new() { "llama-gqa", "llama-mha-tied", "qwen2-bias", "gpt2" };

    public static ModelConfig ByName(string name) => name switch
    {
        "llama-gqa" => Llama(kvHeads: 2),
        "llama-mha-tied" => Llama(kvHeads: 4, tied: true),
        "qwen2-bias" => Llama(kvHeads: 1, tied: true, name: "Qwen2ForCausalLM"),
        "gpt2" => Gpt2(),
        _ => throw new ArgumentException(name),
    };

    public static int[] RandomTokens(int count, int vocab, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => r.Next(vocab)).ToArray();
    }
}
