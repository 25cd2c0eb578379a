using DistillSpec.Backends;
using DistillSpec.Models;
using DistillSpec.Speculative;
using DistillSpec.Tests.Tokenization;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Speculative;

public class VocabularyCheckTests
{
    private static LanguageModel Write(TempDirectory root, string name, int vocab, string? endToken = null)
    {
        string dir = root.File(name);
        RandomModel.Create(dir, RandomModel.LlamaConfig(hidden: 16, layers: 1, heads: 2, kvHeads: 1, intermediate: 32, vocab, context: 16), seed: 1);
        if (endToken is not null)
            HfTokenizerFiles.WriteByteLevelBpe(dir, Enumerable.Range(0, 256).Select(b => ByteUnicodeMap.ByteToken((byte)b)).ToList(), [], [endToken]);
        return LanguageModel.Load(dir, new ScalarBackend());
    }

    [Fact]
    public void SameVocabularyPasses()
    {
        using var root = new TempDirectory();
        using var target = Write(root, "target", 300);
        using var draft = Write(root, "draft", 300);
        VocabularyCheck.EnsureShared(target, draft);
    }

    [Fact]
    public void DifferentTokenStringNamesBothModelsAndTheFirstMismatchingId()
    {
        using var root = new TempDirectory();
        using var target = Write(root, "target", 300);
        using var draft = Write(root, "draft", 300, endToken: "<|end|>");
        var error = Assert.Throws<VocabularyMismatchException>(() => VocabularyCheck.EnsureShared(target, draft));
        Assert.Equal(256, error.FirstMismatch);
        Assert.Contains(target.Directory, error.Message);
        Assert.Contains(draft.Directory, error.Message);
        Assert.Contains("token 256 is '<|endoftext|>' vs '<|end|>'", error.Message);
    }

    [Fact]
    public void DifferentVocabularySizeIsAnError()
    {
        using var root = new TempDirectory();
        using var target = Write(root, "target", 300);
        using var draft = Write(root, "draft", 320);
        var error = Assert.Throws<VocabularyMismatchException>(() => VocabularyCheck.EnsureShared(target, draft));
        Assert.Contains("vocab_size is 300 vs 320", error.Message);
        Assert.Throws<ArgumentException>(() => new SpeculativeDecoder(target.Transformer, draft.Transformer,
            DistillSpec.Sampling.SamplingSettings.GreedyDecoding, new SpeculativeOptions(), seed: 1));
    }
}
