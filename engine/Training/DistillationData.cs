using System.Text.Json;
using DistillSpec.Data;
using DistillSpec.Tokenization;

namespace DistillSpec.Training;

/// <summary>
/// Distillation sequences are a prompt of P tokens followed by a continuation of C, laid end to
/// end so that a WindowLoader with length = stride = P + C serves them. Two sources:
/// a token file (NAME.bin + NAME.json), cut into consecutive windows whose last C tokens are the
/// dataset's own continuation; or a JSONL prompt set ({"prompt", "reference"} per line, as
/// make-prompts writes), each prompt cropped to its last P tokens and its reference to the first C.
/// </summary>
public static class DistillationData
{
    /// <param name="needReference">false when only teacher/student sources will use the data, so a short or missing reference is fine</param>
    public static int[] Load(string path, string tokenizerDirectory, int promptLength, int continuationLength, bool needReference, out int skipped)
    {
        skipped = 0;
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return TokenFile.Read(path);

        var tokenizer = TextTokenizer.Load(tokenizerDirectory);
        int length = promptLength + continuationLength, number = 0;
        var sequences = new List<int>();
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string prompt, reference;
            try
            {
                using var doc = JsonDocument.Parse(line);
                prompt = doc.RootElement.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String
                    ? p.GetString()! : throw new FormatException($"{path}:{number}: no \"prompt\" string");
                reference = doc.RootElement.TryGetProperty("reference", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
            }
            catch (JsonException e)
            {
                throw new FormatException($"{path}:{number}: not valid JSON: {e.Message}");
            }
            int[] promptTokens = tokenizer.Encode(prompt, addBos: false), referenceTokens = tokenizer.Encode(reference, addBos: false);
            if (promptTokens.Length < promptLength || needReference && referenceTokens.Length < continuationLength)
            {
                skipped++;
                continue;
            }
            sequences.AddRange(promptTokens[^promptLength..]);
            var continuation = new int[continuationLength];
            referenceTokens.AsSpan(0, Math.Min(continuationLength, referenceTokens.Length)).CopyTo(continuation);
            sequences.AddRange(continuation);
        }
        if (sequences.Count < length)
            throw new FormatException($"{path}: no prompt has {promptLength} tokens{(needReference ? $" and a reference of {continuationLength}" : "")} ({skipped} skipped); lower --prompt-len or --cont-len");
        return [.. sequences];
    }
}
