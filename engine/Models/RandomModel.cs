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
