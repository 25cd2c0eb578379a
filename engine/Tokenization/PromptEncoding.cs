namespace DistillSpec.Tokenization;

public static class PromptEncoding
{
    /// <summary>
    /// Encodes a prompt, with BOS when addBos says so (null: the tokenizer's convention). An empty
    /// prompt starts from BOS (or EOS, as GPT-2 does), so that there is a first position to predict from.
    /// </summary>
    /// <exception cref="ArgumentException">the prompt is empty and the tokenizer has neither BOS nor EOS.</exception>
    public static int[] EncodePrompt(this TextTokenizer tokenizer, string text, bool? addBos = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = tokenizer.Encode(text, addBos ?? tokenizer.AddBos);
        if (tokens.Length > 0) return tokens;
        int? start = tokenizer.BosId ?? (tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0] : null);
        return start is int s ? [s] : throw new ArgumentException("the prompt is empty and the tokenizer has no BOS or EOS token to start from", nameof(text));
    }
}
