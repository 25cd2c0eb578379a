using DistillSpec.Tokenization;
using static DistillSpec.Tests.Tokenization.TinyByteLevelBpe;

namespace DistillSpec.Tests.Tokenization;

public class SpecialIdConfigTests
{
    private static TextTokenizer LoadWith(TempDirectory dir, string? config = null, string? generationConfig = null, bool keepTokenizerConfig = true)
    {
        WriteTo(dir.Path, Layout.TokenizerJson);
        if (!keepTokenizerConfig) dir.Delete("tokenizer_config.json");
        if (config is not null) dir.Write("config.json", config);
        if (generationConfig is not null) dir.Write("generation_config.json", generationConfig);
        return TextTokenizer.Load(dir.Path);
    }

    [Fact]
    public void ReadsIdsFromConfigJson()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir, """{"bos_token_id": 1, "eos_token_id": 2}""");

        Assert.Equal(1, tok.BosId);
        Assert.Equal([2], tok.EosIds);
        Assert.True(tok.IsEos(2));
        Assert.False(tok.IsEos(EndOfTextId));
    }

    [Fact]
    public void ReadsEosArray()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir, """{"bos_token_id": 1, "eos_token_id": [2, 5]}""");

        Assert.Equal([2, 5], tok.EosIds);
        Assert.True(tok.IsEos(5));
        Assert.False(tok.IsEos(3));
    }

    [Fact]
    public void GenerationConfigOverridesConfigPerField()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir,
            config: """{"bos_token_id": 1, "eos_token_id": 2}""",
            generationConfig: """{"eos_token_id": [7, 8], "do_sample": true}""");

        Assert.Equal(1, tok.BosId);
        Assert.Equal([7, 8], tok.EosIds);
    }

    [Fact]
    public void GenerationConfigAloneIsEnough()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir, generationConfig: """{"bos_token_id": 3, "eos_token_id": 4}""");

        Assert.Equal(3, tok.BosId);
        Assert.Equal([4], tok.EosIds);
    }

    [Fact]
    public void NullIdsInConfigFallBackToTokenizerFile()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir, """{"bos_token_id": null, "eos_token_id": null}""", keepTokenizerConfig: false);

        // The tokenizer.json has no post-processor template, so it declares neither; no name is guessed at.
        Assert.Null(tok.BosId);
        Assert.Empty(tok.EosIds);
        Assert.False(tok.AddBos);
    }

    [Fact]
    public void FallsBackToTokenizerConfigNames()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir);

        // The writer names <|endoftext|> as both, the way GPT-2's tokenizer_config.json does.
        Assert.Equal(EndOfTextId, tok.BosId);
        Assert.Equal([EndOfTextId], tok.EosIds);
        Assert.False(tok.AddBos);
    }

    [Fact]
    public void AddBosComesFromTokenizerConfig()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        dir.Write("tokenizer_config.json", """{"add_bos_token": true}""");
        dir.Write("config.json", """{"bos_token_id": 9, "eos_token_id": 10}""");

        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.True(tok.AddBos);
        Assert.Equal([9, 'h', 'i'], tok.Encode("hi", addBos: true));
        Assert.Equal(['h', 'i'], tok.Encode("hi", addBos: false));
    }

    [Fact]
    public void AddBosIsIgnoredWithoutBosId()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadWith(dir, keepTokenizerConfig: false);

        Assert.Null(tok.BosId);
        Assert.Equal(['h', 'i'], tok.Encode("hi", addBos: true));
    }
}
