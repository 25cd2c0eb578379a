using System.Text.Json;

namespace DistillSpec.Cli;

/// <summary>Benchmark prompts: one per line, or JSONL whose objects carry a "prompt" string.</summary>
internal static class PromptFile
{
    public static List<string> Read(string path)
    {
        var prompts = new List<string>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!line.TrimStart().StartsWith('{')) { prompts.Add(line); continue; }
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String) prompts.Add(p.GetString()!);
                else throw new FormatException($"{path}:{number}: JSON line has no \"prompt\" string");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                // InvalidOperationException: an escaped lone surrogate ("\ud800") is valid JSON but no string.
                throw new FormatException($"{path}:{number}: not valid JSON text: {e.Message}");
            }
        }
        return prompts.Count > 0 ? prompts : throw new FormatException($"{path}: no prompts (one per line, or JSONL with a \"prompt\" field)");
    }
}
