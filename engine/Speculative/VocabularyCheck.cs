using DistillSpec.Models;

namespace DistillSpec.Speculative;

/// <summary>Target and draft must mean the same thing by every token id, or q and p compare nonsense.</summary>
public static class VocabularyCheck
{
    /// <summary>Throws VocabularyMismatchException naming both models and the first id they disagree on.</summary>
    public static void EnsureShared(LanguageModel target, LanguageModel draft)
    {
        string names = $"target '{target.Directory}' and draft '{draft.Directory}'";
        if (target.Config.VocabSize != draft.Config.VocabSize)
            throw new VocabularyMismatchException(null,
                $"{names} do not share a vocabulary: vocab_size is {target.Config.VocabSize} vs {draft.Config.VocabSize}");
        var t = target.Tokenizer;
        var d = draft.Tokenizer;
        for (int id = 0; id < Math.Min(t.VocabSize, d.VocabSize); id++)
        {
            string a = t.TokenText(id), b = d.TokenText(id);
            if (a != b)
                throw new VocabularyMismatchException(id, $"{names} do not share a vocabulary: token {id} is '{a}' vs '{b}'");
        }
        if (t.VocabSize != d.VocabSize)
        {
            int id = Math.Min(t.VocabSize, d.VocabSize);
            throw new VocabularyMismatchException(id,
                $"{names} do not share a vocabulary: their tokenizers have {t.VocabSize} vs {d.VocabSize} tokens (token {id} exists in only one)");
        }
    }
}

public sealed class VocabularyMismatchException(int? firstMismatch, string message) : InvalidOperationException(message)
{
    /// <summary>The first token id whose string differs; null when the logit widths already differ.</summary>
    public int? FirstMismatch { get; } = firstMismatch;
}
