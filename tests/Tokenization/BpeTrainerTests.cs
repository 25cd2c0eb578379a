using System.Text;
using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

public class BpeTrainerTests
{
    // Sennrich et al.'s example: low x5, lower x2, newest x6, widest x3. One word per line keeps spaces out.
    private static readonly string s_words = string.Concat(
        Enumerable.Repeat("low\n", 5).Concat(Enumerable.Repeat("lower\n", 2))
            .Concat(Enumerable.Repeat("newest\n", 6)).Concat(Enumerable.Repeat("widest\n", 3)));

    // Worked by hand: (e,s) and (s,t) tie at 9 and 'e' < 's'; (l,o) beats (o,w) at 7 the same way; at 6,
    // (e,w) beats (n,e) and (w,est) on its left byte, and byte tokens beat merged ones ("n" < "ew").
    private static readonly (string, string)[] s_expectedMerges =
    [
        ("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w"), ("e", "w"), ("n", "ew"), ("new", "est"),
        ("d", "est"), ("i", "dest"), ("w", "idest"), ("e", "r"), ("low", "er"),
    ];

    private static readonly string[] s_roundTripTexts =
    [
        "The quick brown fox jumps over the lazy dog, 1234 times!\n",
        "héllo café naïve — déjà vu; 日本語のテキスト; emoji 😀👍🏽 and 🇫🇷",
        "def f(x):\n    if x is None:\n\treturn {'a': [1, 2]}  # tab\n\n    return x ** 2\r\n",
        "   leading and trailing spaces   ",
        "",
    ];

    [Fact]
    public void MergesMostFrequentPairFirstAndBreaksTiesBySmallerIds()
    {
        TrainedBpe bpe = Train(s_words, vocabSize: 1000);

        Assert.Equal(s_expectedMerges, bpe.Merges.Select(m => (m.Left, m.Right)));
        // Nothing is left to merge, so the vocabulary stops short of 1000: bytes, 12 merges, <|endoftext|>.
        Assert.Equal(256 + s_expectedMerges.Length + 1, bpe.VocabSize);
        Assert.Equal(BpeTrainer.EndOfText, bpe.Tokens[^1]);
    }

    [Fact]
    public void StopsAtTheRequestedVocabularySize()
    {
        TrainedBpe bpe = Train(s_words, vocabSize: 256 + 5 + 1);

        Assert.Equal(262, bpe.VocabSize);
        Assert.Equal(s_expectedMerges[..5], bpe.Merges.Select(m => (m.Left, m.Right)));
    }

    [Fact]
    public void MinPairCountStopsEarly()
    {
        // Counts after the first ten merges are 2, so a minimum of 3 keeps exactly those ten.
        TrainedBpe bpe = Train(s_words, vocabSize: 1000, minPairCount: 3);

        Assert.Equal(s_expectedMerges[..10], bpe.Merges.Select(m => (m.Left, m.Right)));
    }

    [Fact]
    public void MatchesANaiveTrainerThatRecountsEveryPair()
    {
        string text = SampleCorpus();

        TrainedBpe bpe = Train(text, vocabSize: 600);

        Assert.Equal(NaiveMerges(text, mergeCount: bpe.Merges.Count), bpe.Merges.Select(m => (m.Left, m.Right)));
        Assert.True(bpe.Merges.Count > 200, $"only {bpe.Merges.Count} merges");
    }

    [Fact]
    public void ResultDoesNotDependOnTheOrderTextArrives()
    {
        string[] parts = SampleCorpus().Split("\n\n");
        var forward = new BpeTrainer();
        foreach (string p in parts) forward.AddText(p);
        var backward = new BpeTrainer();
        foreach (string p in parts.Reverse()) backward.AddText(p);

        Assert.Equal(forward.Train(500).Merges, backward.Train(500).Merges);
    }

    [Fact]
    public void SavedTokenizerEncodesTrainedWordsWhole()
    {
        using var dir = new TempDirectory();
        Train(s_words, vocabSize: 1000).Save(dir.Path);

        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        Assert.Equal(269, tok.VocabSize);
        Assert.Equal(["newest", "Ċ", "lower", "Ċ", "widest"], tok.Encode("newest\nlower\nwidest", addBos: false).Select(tok.TokenText));
    }

    [Fact]
    public void SavedTokenizerRoundTripsTextExactly()
    {
        using var dir = new TempDirectory();
        Train(SampleCorpus(), vocabSize: 600).Save(dir.Path);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        foreach (string text in s_roundTripTexts)
        {
            int[] ids = tok.Encode(text, addBos: false);
            Assert.Equal(text, tok.Decode(ids));
            Assert.All(ids, id => Assert.InRange(id, 0, tok.VocabSize - 1));
        }
    }

    [Fact]
    public void SavedTokenizerCompressesTextLikeItsCorpus()
    {
        using var dir = new TempDirectory();
        Train(SampleCorpus(), vocabSize: 600).Save(dir.Path);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);
        const string text = "def parse(self, source):\n    \"\"\"Return the tokens of the source.\"\"\"\n    return [t for t in source]\n" +
                            "The committee said that the report would be ready by Friday.\n";

        int tokens = tok.Encode(text, addBos: false).Length, bytes = Encoding.UTF8.GetByteCount(text);

        // 600 tokens learned from a few KB already beat one token per byte by a third on unseen text.
        Assert.True(tokens * 3 < bytes * 2, $"{tokens} tokens for {bytes} bytes");
    }

    [Fact]
    public void EndOfTextIsKeptWholeAsTheLastIdAndEos()
    {
        using var dir = new TempDirectory();
        string documents = string.Join(BpeTrainer.EndOfText, SampleCorpus().Split("\n\n"));
        TrainedBpe bpe = Train(documents, vocabSize: 500);
        bpe.Save(dir.Path);
        TextTokenizer tok = TextTokenizer.Load(dir.Path);

        int eos = tok.VocabSize - 1;
        Assert.Equal([eos], tok.EosIds);
        Assert.DoesNotContain(bpe.Tokens.SkipLast(1), t => t.Contains("endof") || t.Contains("|>"));
        int[] ids = tok.Encode("return x" + BpeTrainer.EndOfText + "The", addBos: false);
        Assert.Single(ids, eos);
        Assert.Equal("return xThe", tok.Decode(ids));
    }

    [Fact]
    public void RejectsAVocabularyWithoutRoomForBytesAndSpecialTokens()
    {
        var trainer = new BpeTrainer();
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Train(256));
    }

    private static TrainedBpe Train(string text, int vocabSize, int minPairCount = 2)
    {
        var trainer = new BpeTrainer();
        trainer.AddText(text);
        return trainer.Train(vocabSize, minPairCount);
    }

    /// <summary>
    /// The textbook algorithm as the oracle: count every pair of every word, merge the most frequent
    /// (ties to the smaller ids), repeat. Quadratic, so only for small texts.
    /// </summary>
    private static List<(string, string)> NaiveMerges(string text, int mergeCount)
    {
        var counts = new Dictionary<string, int>();
        foreach (string part in text.Split(BpeTrainer.EndOfText))
        {
            foreach (var (offset, length) in PreTokenizerChain.Gpt2.Matches(part))
            {
                string w = part.Substring(offset, length);
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        }
        var words = counts.Select(p => (Symbols: Encoding.UTF8.GetBytes(p.Key).Select(b => (int)b).ToList(), Count: p.Value)).ToList();
        var tokens = Enumerable.Range(0, 256).Select(b => ByteUnicodeMap.ByteToken((byte)b)).ToList();

        var merges = new List<(string, string)>();
        while (merges.Count < mergeCount)
        {
            var pairs = new Dictionary<(int, int), int>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            var ((a, b), _) = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First();
            string merged = tokens[a] + tokens[b];
            int id = tokens.IndexOf(merged);
            if (id < 0) { id = tokens.Count; tokens.Add(merged); }
            merges.Add((tokens[a], tokens[b]));
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == a && symbols[i + 1] == b) { symbols[i] = id; symbols.RemoveAt(i + 1); }
        }
        return merges;
    }

    /// <summary>A few KB of prose, Python and non-ASCII text, varied by a counter so that pairs have many different counts.</summary>
    private static string SampleCorpus()
    {
        var sb = new StringBuilder();
        string[] subjects = ["The committee", "A reporter", "The jury", "Our neighbour", "The mayor of Atlanta"];
        string[] verbs = ["said", "reported", "argued", "noted", "wrote"];
        for (int i = 0; i < 40; i++)
        {
            sb.Append($"{subjects[i % 5]} {verbs[i * 3 % 5]} that the election of {1950 + i} was \"fair\", and the city's budget rose by {i * 7 % 13} percent.\n");
            sb.Append($"def handle_{i % 7}(self, request, timeout={i % 4}):\n    if request is None:\n        raise ValueError('no request')\n");
            sb.Append($"    for item in request.items[{i % 3}:]:\n        self.queue.append((item, {i}))\n    return self.queue\n");
            if (i % 4 == 0) sb.Append($"Café naïve — déjà vu {i}; 日本語 {i % 3}.\n");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
