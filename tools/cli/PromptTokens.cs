using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

internal static class PromptTokens
{
    /// <summary>Encodes the prompt; an empty prompt starts from BOS (or EOS, as GPT-2 does) so there is a first position.</summary>
    public static int[] Encode(TextTokenizer tokenizer, string text)
    {
        var tokens = tokenizer.Encode(text, tokenizer.AddBos);
        if (tokens.Length > 0) return tokens;
        int? start = tokenizer.BosId ?? (tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0] : null);
        return start is int s ? [s] : throw new ArgumentException("the prompt is empty and the tokenizer has no BOS or EOS token to start from; pass --prompt");
    }
}
