using System.Text;
using System.Text.Json.Nodes;
using DistillSpec.Tokenization;
using static DistillSpec.Tests.Tokenization.TinyByteLevelBpe;

namespace DistillSpec.Tests.Tokenization;

public class ByteLevelBpeTokenizerTests
{
    public static readonly string[] Texts =
    [
        "the theater in a hat, 42 times!",
        "héllo café naïve — déjà vu; 日本語のテキスト; emoji 😀👍🏽 and 🇫🇷",
        "def f(x):\n    if x:\n\treturn x  # tab\n\n    return None\r\n",
        "   leading and trailing spaces   ",
        "",
    ];

    public static TheoryData<Layout, string> LayoutsAndTexts()
    {
        var data = new TheoryData<Layout, string>();
        foreach (Layout layout in new[] { Layout.TokenizerJson, Layout.VocabMerges })
            foreach (string text in Texts) data.Add(layout, text);
        return data;
    }

    [Theory]
    [MemberData(nameof(LayoutsAndTexts))]
    public void RoundTripsExactly(Layout layout, string text)
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, layout);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        int[] ids = tok.Encode(text, addBos: false);

        Assert.Equal(text, tok.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, tok.VocabSize - 1));
    }

    [Theory]
    [InlineData(Layout.TokenizerJson)]
    [InlineData(Layout.VocabMerges)]
    public void AppliesMerges(Layout layout)
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, layout);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);
        const string text = "in the theater, café";

        int[] ids = tok.Encode(text, addBos: false);

        Assert.True(ids.Length < Encoding.UTF8.GetByteCount(text), $"{ids.Length} tokens");
        Assert.Contains(ids, id => tok.TokenText(id) == "Ġthe");
        Assert.Contains(ids, id => tok.TokenText(id) == "Ã©");
        Assert.Equal(["in", "Ġthe", "Ġthe", "a", "t", "er", ",", "Ġ", "c", "a", "f", "Ã©"], ids.Select(tok.TokenText));
    }

    [Theory]
    [InlineData(Layout.TokenizerJson)]
    [InlineData(Layout.VocabMerges)]
    public void CountsAddedTokensAndEncodesThemWhole(Layout layout)
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, layout);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        int[] ids = tok.Encode("hi<|endoftext|>the", addBos: false);

        Assert.Equal(256 + Merges.Length + 1, tok.VocabSize);
        Assert.Equal(["h", "i", EndOfText, "t", "he"], ids.Select(tok.TokenText));
        Assert.Equal(EndOfTextId, ids[2]);
        Assert.Equal("hithe", tok.Decode(ids)); // special tokens carry no text
    }

    [Fact]
    public void ReadsMergesWrittenAsPairs()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        JsonNode json = JsonNode.Parse(File.ReadAllText(dir.File("tokenizer.json")))!;
        json["model"]!["merges"] = new JsonArray(Merges.Select(m => (JsonNode)new JsonArray(m.Item1, m.Item2)).ToArray());
        dir.Write("tokenizer.json", json.ToJsonString());

        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.Equal(["Ġthe"], tok.Encode(" the", addBos: false).Select(tok.TokenText));
    }

    [Fact]
    public void SupportsLlama3StyleTokenizerJson()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        dir.Delete("tokenizer_config.json");
        JsonNode json = JsonNode.Parse(File.ReadAllText(dir.File("tokenizer.json")))!;
        int bosId = EndOfTextId + 1; // like Llama-3, an added token that model.vocab does not list
        json["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = bosId, ["content"] = "<|begin_of_text|>", ["special"] = true });
        json["pre_tokenizer"] = JsonNode.Parse("""
            {"type":"Sequence","pretokenizers":[
              {"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
              {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}
            """);
        json["post_processor"] = JsonNode.Parse("""
            {"type":"Sequence","processors":[
              {"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},
              {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|begin_of_text|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
               "pair":[],"special_tokens":{"<|begin_of_text|>":{"id":"<|begin_of_text|>","ids":[BOS],"tokens":["<|begin_of_text|>"]}}}]}
            """.Replace("BOS", bosId.ToString()));
        dir.Write("tokenizer.json", json.ToJsonString());

        TextTokenizer tok = TextTokenizer.Load(dir.Path);
        const string text = "x = 12345\n\n  y  ";
        int[] ids = tok.Encode(text, tok.AddBos);

        Assert.True(tok.AddBos);
        Assert.Equal(bosId, tok.BosId);
        Assert.Equal(bosId + 1, tok.VocabSize);
        Assert.Equal(bosId, ids[0]);
        Assert.Equal(text, tok.Decode(ids));
        // Nothing names an EOS (no config files, no trailing template token); <|endoftext|> is not guessed at.
        Assert.Empty(tok.EosIds);
    }

    [Fact]
    public void DecodesInvalidUtf8AsReplacementCharacter()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        // Byte tokens have id == byte value in the tiny vocabulary.
        Assert.Equal("\uFFFD", tok.Decode([0x80]));
        Assert.Equal("\uFFFDA", tok.Decode([0xE2, 0x82, 'A']));
        Assert.Equal("a\uFFFD", tok.Decode(['a', 0xF0, 0x9F]));
        Assert.Equal("\uFFFD", tok.Decode([tok.VocabSize + 7]));
    }

    [Fact]
    public void TokenTextIsTheRawVocabularyString()
    {
        using var dir = new TempDirectory();
        WriteTo(dir.Path, Layout.TokenizerJson);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.Equal("Ġ", tok.TokenText(' '));
        Assert.Equal("Ċ", tok.TokenText('\n'));
        Assert.Equal("Ā", tok.TokenText(0));
        Assert.Equal("a", tok.TokenText('a'));
        Assert.Equal("ĠĠĠĠ", tok.TokenText(256 + 7));
        Assert.Equal(EndOfText, tok.TokenText(EndOfTextId));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.TokenText(tok.VocabSize));
    }
}
