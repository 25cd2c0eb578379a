using DistillSpec.Models;
using DistillSpec.Tokenization;
using DistillSpec.IO;

namespace DistillSpec.Training;

/// <summary>
/// A training checkpoint is a loadable model directory (config.json, model.safetensors in HF
/// layout, tokenizer files) plus optimizer.safetensors (Adam m, v and the step) and
/// trainer_state.json (settings, data cursor, RNG state). The whole directory is written under a
/// temporary name and swapped in by renames, so a kill at any moment leaves the previous
/// checkpoint intact: either at its name, or (between the two renames) at NAME.old-*, which
/// Resolve moves back.
/// </summary>
public static class Checkpoint
{
    public const string OptimizerFile = "optimizer.safetensors", StateFile = "trainer_state.json";

    /// <param name="tokenizerSource">a model directory to copy tokenizer files from; null writes the byte-level tokenizer of init-random models</param>
    public static void Save(string directory, ModelWeights weights, AdamW optimizer, string stateJson, string? tokenizerSource)
    {
        string full = Path.GetFullPath(directory);
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        CleanLeftovers(full);
        string tmp = $"{full}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(tmp);
        try
        {
            HfCheckpoint.Save(weights, tmp);
            WriteTokenizer(tmp, weights.Config, tokenizerSource);
            optimizer.Save(Path.Combine(tmp, OptimizerFile));
            AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), stateJson);
        }
        catch
        {
            Directory.Delete(tmp, recursive: true);
            throw;
        }
        if (!Directory.Exists(full))
        {
            Directory.Move(tmp, full);
            return;
        }
        string old = $"{full}.old-{Guid.NewGuid():N}";
        Directory.Move(full, old);
        Directory.Move(tmp, full);
        Directory.Delete(old, recursive: true);
    }

    /// <summary>The checkpoint directory to resume from, recovering one stranded mid-swap; null when there is none.</summary>
    public static string? Resolve(string directory)
    {
        string full = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(full, StateFile))) return full;
        string parent = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(parent)) return null;
        var stranded = Directory.GetDirectories(parent, Path.GetFileName(full) + ".old-*")
            .FirstOrDefault(d => File.Exists(Path.Combine(d, StateFile)));
        if (stranded is null) return null;
        if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        Directory.Move(stranded, full);
        return full;
    }

    /// <summary>A new run must not overwrite another run's checkpoint; continuing one is what resume is for.</summary>
    public static void EnsureFresh(string runDirectory)
    {
        if (Resolve(Path.Combine(runDirectory, "checkpoint")) is not null)
            throw new InvalidOperationException($"'{runDirectory}' already holds a run's checkpoint; resume it (--resume) or choose another --out");
    }

    /// <summary>trainer_state.json as T; malformed JSON, null or a missing field is an error naming the file and field.</summary>
    public static T ReadState<T>(string directory) where T : class => JsonFile.Deserialize<T>(Path.Combine(directory, StateFile));

    // Temporary directories of interrupted saves; stale .old-* ones only once the checkpoint itself is whole.
    private static void CleanLeftovers(string full)
    {
        string parent = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        foreach (string d in Directory.GetDirectories(parent, name + ".tmp-*")) Directory.Delete(d, recursive: true);
        if (File.Exists(Path.Combine(full, StateFile)))
            foreach (string d in Directory.GetDirectories(parent, name + ".old-*")) Directory.Delete(d, recursive: true);
    }

    private static void WriteTokenizer(string directory, ModelConfig config, string? source)
    {
        if (source is not null)
        {
            ModelFiles.CopyTokenizerFiles(source, directory);
            return;
        }
        if (config.VocabSize < 257) return;
        var bytes = Enumerable.Range(0, 256).Select(b => ByteUnicodeMap.ByteToken((byte)b)).ToList();
        HfTokenizerFiles.WriteByteLevelBpe(directory, bytes, [], [RandomModel.EndOfText]);
    }
}
