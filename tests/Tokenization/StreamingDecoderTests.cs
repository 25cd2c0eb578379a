using System.Text;
using DistillSpec.Tokenization;
using static DistillSpec.Tests.Tokenization.TinyByteLevelBpe;

namespace DistillSpec.Tests.Tokenization;

public class StreamingDecoderTests
{
    private static TextTokenizer Load(TempDirectory dir)
    {
        WriteTo(dir.Path, Layout.TokenizerJson);
        return TextTokenizer.Load(dir.Path);
    }

    private static string Stream(TextTokenizer tok, IEnumerable<int> ids)
    {
        StreamingDecoder decoder = tok.CreateStreamingDecoder();
        var text = new StringBuilder();
        foreach (int id in ids) text.Append(decoder.Append(id));
        return text.Append(decoder.Flush()).ToString();
    }

    [Fact]
    public void HoldsBackEmojiUntilItsLastByte()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = Load(dir);
        StreamingDecoder decoder = tok.CreateStreamingDecoder();

        // 😀 is F0 9F 98 80; byte tokens have id == byte value here.
        Assert.Equal("a", decoder.Append('a'));
        Assert.Equal("", decoder.Append(0xF0));
        Assert.Equal("", decoder.Append(0x9F));
        Assert.Equal("", decoder.Append(0x98));
        Assert.Equal("😀", decoder.Append(0x80));
        Assert.Equal("", decoder.Flush());
    }

    [Theory]
    [InlineData(new[] { 0x80 })]
    [InlineData(new[] { 'a', 0xE2, 0x82, 'b' })]
    [InlineData(new[] { 'a', 0xF0, 0x9F })]
    [InlineData(new[] { 0xF0, 0x9F, 0x98, 0x80, 0xF0, 0x9F, 0x91, 0x8D, 0xC3 })]
    [InlineData(new[] { 0xC3, 0xA9, 0xFF, 0xE6, 0x97, 0xA5, 0xED, 0xA0, 0x80 })]
    public void MatchesDecodeOnInvalidAndSplitBytes(int[] ids)
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = Load(dir);

        Assert.Equal(tok.Decode(ids), Stream(tok, ids));
    }

    [Fact]
    public void IncompleteTailBecomesReplacementOnFlush()
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = Load(dir);
        StreamingDecoder decoder = tok.CreateStreamingDecoder();

        Assert.Equal("a", decoder.Append('a'));
        Assert.Equal("", decoder.Append(0xE2));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Theory]
    [MemberData(nameof(EncodedTexts))]
    public void MatchesDecodeOnEncodedText(string text)
    {
        using var dir = new TempDirectory();
        TextTokenizer tok = Load(dir);
        int[] ids = tok.Encode(text, addBos: false).Append(EndOfTextId).ToArray();

        Assert.Equal(tok.Decode(ids), Stream(tok, ids));
        Assert.Equal(text, Stream(tok, ids));
    }

    public static TheoryData<string> EncodedTexts() => new(ByteLevelBpeTokenizerTests.Texts);
}
