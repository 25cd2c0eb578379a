using System.Text.Json;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

public class UnicodeNormalizationTests
{
    [Theory]
    [InlineData("NFC", false, true)]
    [InlineData("NFD", false, false)]
    [InlineData("NFKC", true, true)]
    [InlineData("NFKD", true, false)]
    public void MatchesJavaScriptNormalize(string form, bool compatibility, bool compose)
    {
        // Each line: a string and its four forms as Node's String.prototype.normalize gives them.
        string file = Path.Combine(ConformanceTests.RepositoryRoot(), "tests", "Tokenization", "Conformance", "unicode-normalization.jsonl");
        var failures = new List<string>();
        int count = 0;
        foreach (string line in File.ReadLines(file))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!, expected = doc.RootElement.GetProperty(form).GetString()!;
            string actual = UnicodeNormalization.Normalize(text, compatibility, compose);
            if (actual != expected) failures.Add($"{JsonSerializer.Serialize(text)}: expected {JsonSerializer.Serialize(expected)}, got {JsonSerializer.Serialize(actual)}");
            count++;
        }
        Assert.True(count >= 300);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void AsciiIsReturnedAsIs()
    {
        const string text = "plain ASCII text, 123";
        Assert.Same(text, UnicodeNormalization.Normalize(text, compatibility: true, compose: true));
    }
}
