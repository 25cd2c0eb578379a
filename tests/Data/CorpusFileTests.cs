using DistillSpec.Data;
using DistillSpec.Tests.Tokenization;

namespace DistillSpec.Tests.Data;

public class CorpusFileTests
{
    [Fact]
    public void SplitsOnTheSeparatorAndDropsEmptyDocuments()
    {
        string text = "<|endoftext|>first\n<|endoftext|><|endoftext|>second <|endoftext|>";

        Assert.Equal(["first\n", "second "], CorpusFile.Split(text));
    }

    [Fact]
    public void JoinAndReadRoundTrip()
    {
        using var dir = new TempDirectory();
        string[] documents = ["import os\n\ndef f():\n    pass\n", "The jury said Friday.\nIt was \"fair\".", "naïve 日本語"];
        dir.Write("split.txt", CorpusFile.Join(documents));

        Assert.Equal(documents, CorpusFile.ReadDocuments(dir.File("split.txt")));
    }

    [Fact]
    public void JoinRejectsADocumentHoldingTheSeparator()
    {
        Assert.Throws<ArgumentException>(() => CorpusFile.Join(["a", "b<|endoftext|>c"]));
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => CorpusFile.ReadDocuments(dir.File("absent.txt")));
        Assert.Contains("absent.txt", e.Message);
    }
}
