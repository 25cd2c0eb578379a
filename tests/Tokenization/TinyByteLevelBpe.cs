using DistillSpec.Tokenization;

namespace DistillSpec.Tests.Tokenization;

/// <summary>A byte-level BPE small enough to write in a test: the 256 byte tokens, a few merges and &lt;|endoftext|&gt;.</summary>
public static class TinyByteLevelBpe
{
    public const string EndOfText = "<|endoftext|>";

    // Ġ is the byte-level spelling of a space; "Ã©" is the UTF-8 of é (C3 A9) in the same alphabet.
    public static readonly (string, string)[] Merges =
    [
        ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"),
        ("Ġ", "Ġ"), ("ĠĠ", "ĠĠ"), ("d", "e"), ("de", "f"), ("r", "e"), ("re", "t"), ("Ã", "©"),
    ];

    public static List<string> Tokens()
    {
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++) tokens.Add(ByteUnicodeMap.ByteToken((byte)b));
        foreach (var (left, right) in Merges) tokens.Add(left + right);
        return tokens;
    }

    public static int EndOfTextId => 256 + Merges.Length;

    /// <summary>Writes all HF files; <paramref name="keep"/> chooses the layout left behind.</summary>
    public static void WriteTo(string dir, Layout keep)
    {
        HfTokenizerFiles.WriteByteLevelBpe(dir, Tokens(), Merges, [EndOfText]);
        if (keep == Layout.TokenizerJson)
        {
            File.Delete(Path.Combine(dir, "vocab.json"));
            File.Delete(Path.Combine(dir, "merges.txt"));
        }
        else if (keep == Layout.VocabMerges)
        {
            File.Delete(Path.Combine(dir, "tokenizer.json"));
        }
    }

    public enum Layout { All, TokenizerJson, VocabMerges }
}
