using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

public class ByteUnicodeMapTests
{
    [Theory]
    [InlineData(0x00, 'Ā')]
    [InlineData(0x0A, 'Ċ')]
    [InlineData(0x20, 'Ġ')]
    [InlineData(0x21, '!')]
    [InlineData(0x7F, 'ġ')]
    [InlineData(0xAD, 'Ń')]
    [InlineData(0xFF, 'ÿ')]
    public void MatchesGpt2Alphabet(int value, char expected) => Assert.Equal(expected, ByteUnicodeMap.ToChar((byte)value));

    [Fact]
    public void IsABijectionOverAllBytes()
    {
        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        string token = ByteUnicodeMap.BytesToToken(all);

        Assert.Equal(256, token.Distinct().Count());
        Assert.Equal(all, ByteUnicodeMap.TokenToBytes(token));
    }
}
