namespace DistillSpec.Tokenization;

/// <summary>Reads the GPT-2 layout: vocab.json (token to id) plus merges.txt (one "left right" pair per line).</summary>
internal static class HfVocabMergesFiles
{
    public static ByteLevelBpeSpec Read(string vocabPath, string mergesPath, List<AddedToken> addedTokens)
    {
        var vocab = IO.JsonFile.Deserialize<Dictionary<string, int>>(vocabPath);

        var merges = new List<string>();
        foreach (string rawLine in File.ReadLines(mergesPath))
        {
            string line = rawLine.TrimEnd('\r');
            // Only the first line can be the format header ("#version: 0.2"); later "#..." lines are real merges.
            if (line.Length == 0 || (merges.Count == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            merges.Add(line);
        }

        return new ByteLevelBpeSpec
        {
            Vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal),
            Merges = merges,
            AddedTokens = addedTokens,
            // GPT-2's tokenizer, the origin of this layout, always splits with its ByteLevel regex.
            Splits = [HfPreTokenizer.CreateSplit(HfPreTokenizer.Gpt2Pattern)],
        };
    }
}
