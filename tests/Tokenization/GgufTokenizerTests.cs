using System.Text.Json;
using DistillSpec.Formats.Gguf;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

/// <summary>
/// Tokenizers rebuilt from GGUF metadata against the reference's ids: a GGUF file written from a
/// conformance tokenizer.json (as convert_hf_to_gguf.py would write it) must encode every fixture
/// string to the ids the reference gives, with and without special tokens.
/// </summary>
public class GgufTokenizerTests
{
    [Theory]
    [InlineData("llama3", "llama-bpe")]
    [InlineData("qwen3", "qwen2")]
    public void ByteLevelBpe_FromGgufMetadata_MatchesTheReference(string name, string pre)
    {
        string model = ConformanceTests.ModelDirectory(name);
        var source = TextTokenizer.Load(model);
        var vocabulary = GgufVocabulary.Read(model, source.VocabSize, preTokenizer: null);
        Assert.Equal(pre, vocabulary.PreTokenizer);
        var writer = new GgufWriter()
            .Add("tokenizer.ggml.model", "gpt2").Add("tokenizer.ggml.pre", vocabulary.PreTokenizer)
            .Add("tokenizer.ggml.tokens", vocabulary.Tokens).Add("tokenizer.ggml.token_type", vocabulary.TokenTypes)
            .Add("tokenizer.ggml.merges", vocabulary.Merges).Add("tokenizer.ggml.add_bos_token", source.AddBos);
        if (source.BosId is int bos) writer.Add("tokenizer.ggml.bos_token_id", (uint)bos);

        AssertMatchesFixtures(name, writer);
    }

    // Llama 2's tokenizer.json is Hugging Face's conversion of a SentencePiece BPE model, whose merges
    // are ranked by the score of the piece they make; GGUF stores those scores, which is what is written here.
    [Fact]
    public void SentencePieceBpe_FromGgufMetadata_MatchesTheReference()
    {
        string path = Path.Combine(ConformanceTests.ModelDirectory("llama2"), "tokenizer.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var model = json.RootElement.GetProperty("model");
        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var tokens = new string[vocab.Count];
        foreach (var (text, id) in vocab) tokens[id] = text;
        var scores = new float[tokens.Length];
        Array.Fill(scores, -1e9f);
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.Array ? m[0].GetString() + m[1].GetString() : m.GetString()!.Replace(" ", "")).ToList();
        for (int rank = merges.Count - 1; rank >= 0; rank--) scores[vocab[merges[rank]]] = -rank;
        var special = json.RootElement.GetProperty("added_tokens").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).ToHashSet();
        int[] types = Enumerable.Range(0, tokens.Length).Select(id =>
            id == 0 ? (int)GgufTokenType.Unknown
            : special.Contains(id) ? (int)GgufTokenType.Control
            : tokens[id].Length == 6 && tokens[id].StartsWith("<0x", StringComparison.Ordinal) ? (int)GgufTokenType.Byte
            : (int)GgufTokenType.Normal).ToArray();
        var writer = new GgufWriter()
            .Add("tokenizer.ggml.model", "llama").Add("tokenizer.ggml.tokens", tokens).Add("tokenizer.ggml.scores", scores)
            .Add("tokenizer.ggml.token_type", types).Add("tokenizer.ggml.bos_token_id", 1u).Add("tokenizer.ggml.eos_token_id", 2u)
            .Add("tokenizer.ggml.add_bos_token", true);

        AssertMatchesFixtures("llama2", writer);
    }

    private static void AssertMatchesFixtures(string name, GgufWriter writer)
    {
        using var dir = new TempDirectory();
        string gguf = dir.File(name + ".gguf");
        writer.Save(gguf);
        var tokenizer = TextTokenizer.Load(gguf);

        var failures = new List<string>();
        int count = 0;
        string fixtures = Path.Combine(ConformanceTests.RepositoryRoot(), "tests", "Tokenization", "Conformance", name + ".jsonl");
        foreach (string line in File.ReadLines(fixtures).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            int[] ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            int[] withSpecial = doc.RootElement.GetProperty("special").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            count++;
            if (!tokenizer.Encode(text, addBos: false).SequenceEqual(ids)) failures.Add($"ids of {JsonSerializer.Serialize(text)}");
            if (!tokenizer.EncodeWithSpecialTokens(text).SequenceEqual(withSpecial)) failures.Add($"special ids of {JsonSerializer.Serialize(text)}");
        }
        Assert.True(count >= 300, $"{name}: only {count} fixture strings");
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} mismatches over {count} strings:\n" + string.Join("\n", failures.Take(10)));
    }
}
