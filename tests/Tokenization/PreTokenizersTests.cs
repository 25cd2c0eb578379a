using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

/// <summary>
/// Split behaviours the reference tokenizers do not implement (it treats all but Removed as Isolated), checked
/// against the examples of Hugging Face's own documentation for "the-final--countdown" split on "-".
/// </summary>
public class PreTokenizersTests
{
    private static List<string> Split(SplitBehavior behavior, bool invert = false, string text = "the-final--countdown")
    {
        var output = new List<string>();
        new SplitStep(JsRegex.Literal("-"), behavior, invert).Split(text, 0, output);
        return output;
    }

    [Fact]
    public void Removed() => Assert.Equal(["the", "final", "countdown"], Split(SplitBehavior.Removed));

    [Fact]
    public void Isolated() => Assert.Equal(["the", "-", "final", "-", "-", "countdown"], Split(SplitBehavior.Isolated));

    [Fact]
    public void MergedWithPrevious() => Assert.Equal(["the-", "final-", "-", "countdown"], Split(SplitBehavior.MergedWithPrevious));

    [Fact]
    public void MergedWithNext() => Assert.Equal(["the", "-final", "-", "-countdown"], Split(SplitBehavior.MergedWithNext));

    [Fact]
    public void Contiguous() => Assert.Equal(["the", "-", "final", "--", "countdown"], Split(SplitBehavior.Contiguous));

    [Fact]
    public void InvertedRemovedKeepsOnlyMatches() => Assert.Equal(["-", "-", "-"], Split(SplitBehavior.Removed, invert: true));

    [Fact]
    public void RegexSeesAstralCharactersAsOneCharacter()
    {
        // "[^\r\n\p{L}\p{N}]?\p{L}+": the emoji is the optional non-letter in front of a word, and 𝐁𝐨𝐥𝐝 is letters,
        // as in JavaScript; .NET alone would see surrogate halves and split differently.
        var regex = new JsRegex(@"[^\r\n\p{L}\p{N}]?\p{L}+|[^\s\p{L}\p{N}]+");
        string text = "😀abc 𝐁𝐨𝐥𝐝";
        Assert.Equal(["😀abc", " 𝐁𝐨𝐥𝐝"], regex.Matches(text).Select(m => text.Substring(m.Start, m.Length)));
    }

    [Fact]
    public void RegexUsesJavaScriptWhitespace()
    {
        // U+0085 is whitespace to .NET but not to JavaScript; U+FEFF the other way round.
        var regex = new JsRegex(@"\s+");
        Assert.Equal([(1, 1)], regex.Matches("a\uFEFFb\u0085c"));
    }
}
