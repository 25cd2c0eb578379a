using System.Text.Json;
using DistillSpec.Models;
using DistillSpec.Tokenization;

namespace DistillSpec.Bench;

/// <summary>
/// A trained Llama-family checkpoint rewritten in another Llama-family architecture's layout, computing
/// the same function: Qwen2 with zero q/k/v biases, Phi-3 with its fused projections. It lets the logits
/// check run a model whose predictions are peaked, as a real model's are, in every architecture that
/// can hold it.
/// </summary>
internal static class TrainedModelLayouts
{
    /// <summary>Writes source's weights as architecture (llama.cpp's name) into directory, with source's tokenizer files; false if it cannot hold them.</summary>
    public static bool TryWrite(string source, string architecture, string directory)
    {
        var config = ModelConfig.Load(source);
        if (config.Architecture != Architecture.Llama || config.AttentionBias || config.MlpBias)
            throw new ArgumentException($"--model {source}: expected a Llama-family checkpoint without biases, found {config.ArchitectureName}");
        var registered = Models.Architectures.ModelArchitectures.ByGgufName(architecture)
            ?? throw new ArgumentException($"unknown architecture '{architecture}'; expected one of {string.Join(", ", Models.Architectures.ModelArchitectures.GgufNames)}");
        if (registered is Models.Architectures.Gpt2) return false;
        var target = config with { ArchitectureName = registered.HfClasses[0], AttentionBias = registered is Models.Architectures.Qwen2 };
        var weights = HfCheckpoint.Load(source, config);
        var layers = weights.Layers.Select(l => !target.AttentionBias ? l : new LayerWeights
        {
            AttentionNorm = l.AttentionNorm, Query = l.Query, Key = l.Key, Value = l.Value, Output = l.Output,
            QueryBias = new float[target.QDim], KeyBias = new float[target.KvDim], ValueBias = new float[target.KvDim],
            MlpNorm = l.MlpNorm, Gate = l.Gate, Up = l.Up, Down = l.Down,
        }).ToArray();
        HfCheckpoint.Save(new ModelWeights
        {
            Config = target, Embedding = weights.Embedding, Layers = layers, FinalNorm = weights.FinalNorm, LmHead = weights.LmHead,
        }, directory);
        foreach (string file in Directory.EnumerateFiles(source))
            if (Path.GetFileName(file) is not ("config.json" or "model.safetensors" or "trainer_state.json"))
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
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
