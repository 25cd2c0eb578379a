using DistillSpec.SafeTensors;
using DistillSpec.Tokenization;

namespace DistillSpec.Models;

/// <summary>
/// Writes a randomly initialised model as a complete Hugging Face directory: config.json,
/// model.safetensors and a byte-level tokenizer (the 256 byte tokens plus &lt;|endoftext|&gt;).
/// Used for tests, speed benchmarks and as a stand-in before trained weights exist.
/// </summary>
public static class RandomModel
{
    public const string EndOfText = "<|endoftext|>";

    public static ModelConfig LlamaConfig(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab,
        int context = 2048, bool tied = true) => new()
    {
        Architecture = Architecture.Llama,
        ArchitectureName = "LlamaForCausalLM",
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        Layers = layers,
        Heads = heads,
        KvHeads = kvHeads,
        HeadDim = heads > 0 ? hidden / heads : 0,  // Validate reports a zero head count
        MaxPositions = context,
        NormEps = 1e-5f,
        RopeTheta = 10000f,
        TiedEmbeddings = tied,
        BosTokenId = 256,
        EosTokenIds = [256],
    };

    /// <summary>The names <see cref="ConfigFor"/> accepts: llama.cpp's architecture names.</summary>
    internal static IReadOnlyList<string> ArchitectureNames => Architectures.ModelArchitectures.GgufNames;

    /// <summary>
    /// A config of a registered architecture (by llama.cpp's name) with the given shape: Qwen2 gets its
    /// q/k/v biases, GPT-2 as many key/value heads as heads and its tied output.
    /// </summary>
    internal static ModelConfig ConfigFor(string architecture, int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab,
        int context = 2048, bool tied = true)
    {
        var llama = LlamaConfig(hidden, layers, heads, kvHeads, intermediate, vocab, context, tied);
        var registered = Architectures.ModelArchitectures.ByGgufName(architecture)
            ?? throw new ArgumentException($"unknown architecture '{architecture}'; expected one of {string.Join(", ", ArchitectureNames)}", nameof(architecture));
        return registered switch
        {
            Architectures.Gpt2 => llama with { Architecture = Architecture.Gpt2, ArchitectureName = registered.HfClasses[0], KvHeads = heads, TiedEmbeddings = true },
            Architectures.Qwen2 => llama with { ArchitectureName = registered.HfClasses[0], AttentionBias = true },
            _ => llama with { ArchitectureName = registered.HfClasses[0] },
        };
    }

    public static void Create(string directory, ModelConfig config, int seed, DType storeAs = DType.F32)
    {
        if (config.VocabSize < 257)
            throw new ArgumentOutOfRangeException(nameof(config), config.VocabSize, "a byte-level vocabulary needs at least 257 ids (256 bytes + <|endoftext|>)");
        config.Validate(directory);
        HfCheckpoint.Save(ModelWeights.Random(config, seed), directory, storeAs);
        var bytes = Enumerable.Range(0, 256).Select(b => ByteUnicodeMap.ByteToken((byte)b)).ToList();
        HfTokenizerFiles.WriteByteLevelBpe(directory, bytes, [], [EndOfText]);
    }
}
