namespace DistillSpec.Tests.Facade;

public class StopStringsTests
{
    private static (string Text, bool Stopped) Feed(string[] stops, params string[] pieces)
    {
        var s = new StopStrings(stops);
        var text = string.Concat(pieces.Select(s.Push)) + s.Flush();
        return (text, s.Stopped);
    }

    [Fact]
    public void TextEndsBeforeAStopStringSplitAcrossPieces() =>
        Assert.Equal(("def f():\n    return 1", true), Feed(["\n\n"], "def f():\n    return 1\n", "\nclass"));

    [Fact]
    public void APartialMatchThatFailsIsReleased() =>
        Assert.Equal(("a\nb\nc", false), Feed(["\n\n"], "a\n", "b\n", "c"));

    [Fact]
    public void TheEarliestOfSeveralStopsWins() =>
        Assert.Equal(("x = ", true), Feed(["END", "1;"], "x = 1; y = END"));

    [Fact]
    public void HeldBackTextIsNeverEmittedBeforeItIsDecided()
    {
        var s = new StopStrings(["</s>"]);
        Assert.Equal("hello ", s.Push("hello </"));
        Assert.Equal("", s.Push("s"));
        Assert.Equal("", s.Push(">tail"));
        Assert.True(s.Stopped);
        Assert.Equal("", s.Push("more"));
    }

    [Fact]
    public void NoStopsPassesEverythingThrough() => Assert.Equal(("abc", false), Feed([], "a", "b", "c"));

    [Fact]
    public void EmptyStopStringsAreRejected() => Assert.Throws<ArgumentException>(() => new StopStrings([""]));
}
