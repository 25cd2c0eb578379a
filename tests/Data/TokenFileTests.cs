using System.Text.Json.Nodes;
using DistillSpec.Data;
using DistillSpec.Tests.Tokenization;

namespace DistillSpec.Tests.Data;

public class TokenFileTests
{
    [Fact]
    public void RoundTripsUInt16WithItsHeader()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("train.bin");
        int[] tokens = [0, 1, 5999, 65535, 42];

        TokenFile.Write(bin, tokens, new TokenFileHeader { VocabSize = 65536, EosId = 5999, Documents = 2, Source = "train.txt", SourceSha256 = "ab" });
        int[] read = TokenFile.Read(bin, out TokenFileHeader header);

        Assert.Equal(tokens, read);
        Assert.Equal(TokenDType.UInt16, header.DType);
        Assert.Equal(5, header.TokenCount);
        Assert.Equal((5999, 2, "train.txt", "ab"), (header.EosId!.Value, header.Documents, header.Source, header.SourceSha256));
        Assert.Equal(10, new FileInfo(bin).Length);
        Assert.Equal("uint16", JsonNode.Parse(File.ReadAllText(dir.File("train.json")))!["dtype"]!.GetValue<string>());
    }

    [Fact]
    public void UsesInt32PastTheUInt16Range()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("big.bin");

        TokenFile.Write(bin, [69999, 0, 65536], new TokenFileHeader { VocabSize = 70000 });

        Assert.Equal([69999, 0, 65536], TokenFile.Read(bin, out TokenFileHeader header));
        Assert.Equal(TokenDType.Int32, header.DType);
        Assert.Equal([0x6F, 0x11, 0x01, 0x00], File.ReadAllBytes(bin)[..4]); // 69999 little-endian
    }

    [Fact]
    public void WriterStreamsAppendsAndLeavesNothingWhenAbandoned()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("stream.bin");
        using (var writer = new TokenFileWriter(bin, vocabSize: 100))
        {
            writer.Append([1, 2, 3]);
            writer.Append(99);
            writer.Complete(new TokenFileHeader { VocabSize = 100 });
        }
        Assert.Equal([1, 2, 3, 99], TokenFile.Read(bin));

        string abandoned = dir.File("abandoned.bin");
        using (var writer = new TokenFileWriter(abandoned, vocabSize: 100)) writer.Append([1]);
        Assert.Empty(Directory.GetFiles(dir.Path, "abandoned*"));
    }

    [Fact]
    public void WriterRejectsIdsOutsideTheVocabulary()
    {
        using var dir = new TempDirectory();
        using var writer = new TokenFileWriter(dir.File("bad.bin"), vocabSize: 10);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append([3, 10]));
        Assert.Contains("bad.bin", e.Message);
    }

    [Fact]
    public void MissingHeaderIsNamed()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("orphan.bin"), new byte[4]);

        var e = Assert.Throws<TokenFileException>(() => TokenFile.Read(dir.File("orphan.bin")));
        Assert.Contains("orphan.json", e.Message);
    }

    [Theory]
    [InlineData("not json", "not a token file header")]
    [InlineData("{\"format\":\"distillspec-tokens\",\"version\":1,\"dtype\":\"uint16\",\"token_count\":2}", "vocab_size")]
    [InlineData("{\"format\":\"other\",\"version\":1,\"vocab_size\":10,\"dtype\":\"uint16\",\"token_count\":2}", "'other'")]
    [InlineData("{\"format\":\"distillspec-tokens\",\"version\":2,\"vocab_size\":10,\"dtype\":\"uint16\",\"token_count\":2}", "version 2")]
    [InlineData("{\"format\":\"distillspec-tokens\",\"version\":1,\"vocab_size\":10,\"dtype\":\"int32\",\"token_count\":1}", "dtype")]
    [InlineData("{\"format\":\"distillspec-tokens\",\"version\":1,\"vocab_size\":10,\"dtype\":\"float\",\"token_count\":2}", "not a token file header")]
    public void BadHeaderIsNamedWithTheProblem(string json, string problem)
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("t.bin"), new byte[4]);
        dir.Write("t.json", json);

        var e = Assert.Throws<TokenFileException>(() => TokenFile.Read(dir.File("t.bin")));
        Assert.Contains(dir.File("t.json"), e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void SizeThatDisagreesWithTheHeaderIsNamed()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("short.bin");
        TokenFile.Write(bin, [1, 2, 3], new TokenFileHeader { VocabSize = 10 });
        File.WriteAllBytes(bin, File.ReadAllBytes(bin)[..5]);

        var e = Assert.Throws<TokenFileException>(() => TokenFile.Read(bin));
        Assert.Contains(bin, e.Message);
        Assert.Contains("5 bytes", e.Message);
        Assert.Contains("3 uint16 tokens", e.Message);
    }

    [Fact]
    public void IdOutsideTheVocabularyIsNamedWithItsPosition()
    {
        using var dir = new TempDirectory();
        string bin = dir.File("ids.bin");
        TokenFile.Write(bin, [1, 2, 300], new TokenFileHeader { VocabSize = 1000 });
        dir.Write("ids.json", File.ReadAllText(dir.File("ids.json")).Replace("\"vocab_size\": 1000", "\"vocab_size\": 100"));

        var e = Assert.Throws<TokenFileException>(() => TokenFile.Read(bin));
        Assert.Contains(bin, e.Message);
        Assert.Contains("token 2 is 300", e.Message);
    }
}
