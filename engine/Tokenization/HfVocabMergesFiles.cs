using System.Text;
using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>Reads the GPT-2 layout: vocab.json (token to id) plus merges.txt (one "left right" pair per line).</summary>
internal static class HfVocabMergesFiles
{
    public static TokenizerCore Read(string vocabPath, string mergesPath, List<AddedToken> addedTokens)
    {
        var vocab = IO.JsonFile.Deserialize<Dictionary<string, int>>(vocabPath);
        int count = TokenIdCheck.Count(vocab.Select(p => (p.Key, p.Value)), addedTokens, vocabPath);

        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (string rawLine in File.ReadLines(mergesPath))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r');
            // Only the first line can be the format header ("#version: 0.2"); later "#..." lines are real merges.
            if (line.Length == 0 || (merges.Count == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            if (line.Split(' ') is not [var left, var right])
                throw new ModelFormatException(mergesPath, $"line {lineNumber}: expected \"left right\"");
            merges.Add((left, right));
        }

        var ids = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        foreach (AddedToken t in addedTokens) ids[t.Content] = t.Id;
        BpeModel model;
        try
        {
            model = new BpeModel(ids, merges, unknownId: -1, fuseUnknown: false, byteFallback: false, ignoreMerges: false);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(mergesPath, e.Message);
        }
        // GPT-2's tokenizer, the origin of this layout, always splits with its ByteLevel regex.
        PreTokenizerChain preTokenizer = PreTokenizerChain.Gpt2ByteLevel();
        var tokenizer = new HfTokenizer(new AddedTokenSplitter(addedTokens), null, preTokenizer, model);

        var table = new TokenTable(count);
        foreach (var (token, id) in vocab) table.Set(id, token, ByteUnicodeMap.TokenToBytes(token));
        // Added tokens are stored as plain text, not in the byte alphabet, so they override the vocab entry.
        foreach (AddedToken t in addedTokens) table.Set(t.Id, t.Content, t.Special ? [] : Encoding.UTF8.GetBytes(t.Content));
        return new TokenizerCore(tokenizer.Encode, table, FileBos: null, FileEos: [], DefaultAddBos: false)
        {
            ByteLevelBpe = new ByteLevelBpeSpec(vocab, merges, addedTokens, ByteLevelBpeSpec.PatternsOf(preTokenizer)),
        };
    }
}
