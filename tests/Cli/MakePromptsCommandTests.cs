using System.Text.Json;

namespace DistillSpec.Tests.Cli;

[Collection("Console")]
public class MakePromptsCommandTests
{
    // Four documents of distinct code lines, the last much longer than the others.
    private static string Corpus() => string.Join("<|endoftext|>", Enumerable.Range(0, 4).Select(d =>
        string.Concat(Enumerable.Range(0, d == 3 ? 60 : 12).Select(i => $"value_{d}_{i} = compute({d}, {i}) + offset\n"))));

    [Fact]
    public void FirstPrompts_SpanEveryDocument_BeforeAnyRepeats()
    {
        using var dir = new TempDirectory();
        dir.Write("test.txt", Corpus());
        string output = dir.File("prompts.jsonl");
        int code = DistillSpec.Cli.Cli.Run(
            ["make-prompts", "-m", ShippedWeights.Tiny, "-i", dir.File("test.txt"), "-o", output, "-n", "12",
             "--min-tokens", "40", "--max-tokens", "120", "--reference-tokens", "16"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(0, code);
        var documents = File.ReadLines(output).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("document").GetInt32()).ToList();
        Assert.Equal(12, documents.Count);
        Assert.Equal([0, 1, 2, 3], documents.Take(4).Order());
        // Round-robin: a pair's rank within its document never falls along the file.
        var ranks = documents.Select((d, i) => documents.Take(i).Count(x => x == d)).ToList();
        Assert.Equal(ranks.Order(), ranks);
    }
}
