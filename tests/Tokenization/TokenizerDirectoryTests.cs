using DistillSpec.Models;
using DistillSpec.Tokenization;
using static DistillSpec.Tests.Tokenization.TinyByteLevelBpe;

namespace DistillSpec.Tests.Tokenization;

public class TokenizerDirectoryTests
{
    [Fact]
    public void MissingTokenizerNamesDirectoryAndFiles()
    {
        using var dir = new TempDirectory();
        dir.Write("config.json", "{}");

        var e = Assert.Throws<FileNotFoundException>(() => TextTokenizer.Load(dir.Path));

        foreach (string expected in new[] { dir.Path, "tokenizer.json", "vocab.json", "merges.txt", "tokenizer.model" })
            Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MissingDirectoryThrows()
    {
        string path = Path.Combine(Path.GetTempPath(), "distillspec-missing-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<DirectoryNotFoundException>(() => TextTokenizer.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void PrefersTokenizerJson()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        // Unreadable lower-priority files prove they were never opened.
        dir.Write("vocab.json", "not json");
        dir.Write("merges.txt", "");
        dir.Write("tokenizer.model", "not a model");

        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.Equal(["Ġthe"], tok.Encode(" the", addBos: false).Select(tok.TokenText));
    }

    [Theory]
    [InlineData("""{"model":{"type":"WordPiece","vocab":{}}}""", "model type \"WordPiece\"")]
    [InlineData("""{"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"BertPreTokenizer"},"decoder":{"type":"Fuse"}}""", "pre-tokenizer type \"BertPreTokenizer\"")]
    [InlineData("""{"model":{"type":"BPE","vocab":{},"merges":[]},"normalizer":{"type":"Precompiled"},"decoder":{"type":"Fuse"}}""", "normalizer type \"Precompiled\"")]
    [InlineData("""{"model":{"type":"BPE","vocab":{},"merges":[]},"decoder":{"type":"WordPiece"}}""", "decoder type \"WordPiece\"")]
    [InlineData("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"decoder":{"type":"Fuse"}}""", "merge 0")]
    [InlineData("""{"model":{"type":"Unigram","vocab":[]},"decoder":{"type":"Fuse"}}""", "unk_id")]
    [InlineData("{not json", "not valid JSON")]
    public void UnsupportedTokenizerJsonIsAnErrorNotAFallback(string json, string feature)
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.All);
        dir.Write("tokenizer.json", json);

        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(dir.Path));

        Assert.Contains(dir.File("tokenizer.json"), e.Message);
        Assert.Contains(feature, e.Message);
    }

    [Fact]
    public void PrefersVocabAndMergesOverSentencePiece()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.VocabMerges);
        dir.Write("tokenizer.model", "not a model");

        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.Equal(["Ġthe"], tok.Encode(" the", addBos: false).Select(tok.TokenText));
    }

    [Fact]
    public void WriterProducesBothLayoutsWithTheSameIds()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.All);
        string[] expected = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"];
        Assert.All(expected, f => Assert.True(File.Exists(dir.File(f)), f));
        Assert.StartsWith("#version", File.ReadAllLines(dir.File("merges.txt"))[0]);

        TextTokenizer fromJson = TextTokenizer.Load(dir.Path);
        dir.Delete("tokenizer.json");
        TextTokenizer fromVocab = TextTokenizer.Load(dir.Path);

        const string text = "def theater():\n    return 'é' <|endoftext|>";
        Assert.Equal(fromJson.Encode(text, false), fromVocab.Encode(text, false));
        Assert.Equal(fromJson.VocabSize, fromVocab.VocabSize);
    }

    [Fact]
    public void WriterRejectsMergeWhoseResultIsNotAToken()
    {
        using var dir = new TempDirectory();
        List<string> tokens = Tokens();
        Assert.Throws<ArgumentException>(() =>
            HfTokenizerFiles.WriteByteLevelBpe(dir.Path, tokens, [("x", "y")], []));
    }
}
