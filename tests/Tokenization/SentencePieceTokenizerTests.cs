using System.Text;
using DistillSpec.Tokenization;
using static DistillSpec.Tests.Tokenization.SentencePieceModelWriter;

namespace DistillSpec.Tests.Tokenization;

public class SentencePieceTokenizerTests
{
    private static readonly string[] Words =
    [
        "▁t", "he", "▁the", "ll", "▁h", "llo", "▁he", "▁hello", "or", "▁w", "▁wor", "ld", "▁world",
        "▁", "t", "h", "e", "l", "o", "w", "r", "d", "a", "c", "s", "n", "i", "x", "y", "p",
    ];

    private static TextTokenizer LoadModel(TempDirectory dir)
    {
        File.WriteAllBytes(dir.File("tokenizer.model"), Write(LlamaStylePieces(Words)));
        return TextTokenizer.Load(dir.Path);
    }

    [Fact]
    public void LoadsHandWrittenModel()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadModel(dir);

        Assert.Equal(3 + 256 + Words.Length, tok.VocabSize);
        Assert.Equal(1, tok.BosId);
        Assert.Equal([2], tok.EosIds);
        Assert.True(tok.AddBos);
        Assert.Equal("<s>", tok.TokenText(1));
        Assert.Equal("<0xE2>", tok.TokenText(3 + 0xE2));
        Assert.Equal("▁hello", tok.TokenText(3 + 256 + 7));
    }

    [Fact]
    public void LibraryReadsTheHandWrittenModelSettings()
    {
        byte[] model = Write(LlamaStylePieces(Words));

        var sp = Microsoft.ML.Tokenizers.SentencePieceTokenizer.Create(new MemoryStream(model), false, false);

        Assert.True(sp.ByteFallback);
        Assert.True(sp.AddDummyPrefix);
        Assert.True(sp.EscapeWhiteSpaces);
        Assert.Equal((1, 2, 0), (sp.BeginningOfSentenceId, sp.EndOfSentenceId, sp.UnknownId));
        Assert.Equal(3 + 256 + Words.Length, sp.Vocabulary.Count);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("the hello, the world!")]
    [InlineData("  two  spaces\nand\ttabs ")]
    public void RoundTripsAscii(string text)
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadModel(dir);

        int[] ids = tok.Encode(text, addBos: true);

        Assert.Equal(1, ids[0]);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void AppliesMerges()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadModel(dir);

        int[] ids = tok.Encode("hello world", addBos: false);

        Assert.Equal(["▁hello", "▁world"], ids.Select(tok.TokenText));
    }

    [Theory]
    [InlineData("héllo wörld")]
    [InlineData("日本語 😀 and 👍🏽")]
    public void RoundTripsUnicodeThroughByteFallback(string text)
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadModel(dir);

        int[] ids = tok.Encode(text, addBos: true);

        Assert.Contains(ids, id => tok.TokenText(id).StartsWith("<0x", StringComparison.Ordinal));
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void StreamsByteFallbackCharacters()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = LoadModel(dir);
        int[] ids = tok.Encode("hello 😀 world", addBos: true).Append(2).ToArray();

        StreamingDecoder decoder = tok.CreateStreamingDecoder();
        var pieces = ids.Select(decoder.Append).ToList();
        string streamed = string.Concat(pieces) + decoder.Flush();

        Assert.Equal("hello 😀 world", streamed);
        Assert.Equal(tok.Decode(ids), streamed);
        // The emoji arrives as four byte pieces; only the last one releases it.
        int last = pieces.IndexOf("😀");
        Assert.Equal(["", "", ""], pieces.Skip(last - 3).Take(3));
    }

    [Fact]
    public void ConfigJsonOverridesModelIds()
    {
        using var dir = new TempDirectory();
        dir.Write("config.json", """{"bos_token_id": 1, "eos_token_id": [2, 0]}""");
        dir.Write("tokenizer_config.json", """{"add_bos_token": false}""");
        TextTokenizer tok = LoadModel(dir);

        Assert.Equal([2, 0], tok.EosIds);
        Assert.False(tok.AddBos);
    }

    [Fact]
    public void TokenizerJsonBesideTokenizerModelIsTheTokenizer()
    {
        using var dir = new TempDirectory();
        // What Llama-2 repositories ship next to tokenizer.model: BPE with metaspace and byte fallback.
        dir.Write("tokenizer.json", """
            {"added_tokens":[], "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},
               {"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
             "pre_tokenizer":null, "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
               {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
             "model":{"type":"BPE","byte_fallback":true,"vocab":{"▁":0,"h":1,"i":2,"▁h":3,"▁hi":4,"<0x21>":5},"merges":["▁ h","▁h i"]}}
            """);
        TextTokenizer tok = LoadModel(dir);

        Assert.Equal(6, tok.VocabSize);
        int[] ids = tok.Encode("hi hi!", false);
        Assert.Equal([4, 4, 5], ids);
        Assert.Equal("hi hi!", tok.Decode(ids));
    }

    [Fact]
    public void AddsTokensFromTokenizerConfigPastTheModel()
    {
        using var dir = new TempDirectory();
        int padId = 3 + 256 + Words.Length;
        dir.Write("tokenizer_config.json", """
            {"added_tokens_decoder": {"PAD": {"content": "<pad>", "special": true}, "1": {"content": "<s>", "special": true}}}
            """.Replace("PAD", padId.ToString()));
        TextTokenizer tok = LoadModel(dir);

        Assert.Equal(padId + 1, tok.VocabSize);
        Assert.Equal("<pad>", tok.TokenText(padId));
        Assert.Equal("hello", tok.Decode([1, .. tok.Encode("hello", false), padId]));
    }
}
