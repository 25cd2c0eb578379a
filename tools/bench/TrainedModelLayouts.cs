using System.Text.Json;
using DistillSpec.Models;
using DistillSpec.Tokenization;

namespace DistillSpec.Bench;

/// <summary>
/// A trained Llama checkpoint written in another Llama-family architecture's layout (LlamaFamilyLayouts),
/// so the logits check runs a model whose predictions are peaked, as a real model's are, in every
/// architecture that can hold it; and its prompt, real text.
/// </summary>
internal static class TrainedModelLayouts
{
    /// <summary>Writes source's weights as architecture (llama.cpp's name) into directory, with source's tokenizer files; false if it cannot hold them.</summary>
    public static bool TryWrite(string source, string architecture, string directory)
    {
        var config = ModelConfig.Load(source);
        if (Models.Architectures.LlamaFamilyLayouts.As(HfCheckpoint.Load(source, config), architecture) is not { } weights) return false;
        HfCheckpoint.Save(weights, directory);
        ModelFiles.CopyTokenizerFiles(source, directory);
        return true;
    }

    /// <summary>The first positions tokens of the prompt and reference texts in a JSON-lines prompt file, joined in order.</summary>
    public static int[] PromptTokens(string model, string promptFile, int positions)
    {
        var tokenizer = TextTokenizer.Load(model);
        var tokens = new List<int>();
        foreach (string line in File.ReadLines(promptFile))
        {
            if (tokens.Count >= positions) break;
            using var json = JsonDocument.Parse(line);
            foreach (string field in new[] { "prompt", "reference" })
                if (json.RootElement.TryGetProperty(field, out var text)) tokens.AddRange(tokenizer.Encode(text.GetString() ?? "", addBos: false));
        }
        if (tokens.Count < positions) throw new ArgumentException($"--prompt-file {promptFile}: its texts give {tokens.Count} tokens, fewer than --positions {positions}");
        return [.. tokens.Take(positions)];
    }
}
