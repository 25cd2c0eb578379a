namespace DistillSpec.Models;

/// <summary>
/// The files of a model directory, which must stay inside it: a symlink planted in a downloaded
/// model (say config.json -> /etc/passwd) must not make the engine read, or report the contents
/// of, a file elsewhere. Hugging Face's hub cache is the one layout whose links leave the
/// directory on purpose: snapshots/REVISION/NAME -> ../../blobs/HASH, so the repository's
/// blobs folder counts as inside too.
/// </summary>
public static class ModelFiles
{
    /// <summary>Tokenizer and generation side files a model directory may hold, besides config.json and the weights.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
         "tokenizer.model", "added_tokens.json", "generation_config.json"];

    /// <summary>Copies the tokenizer and side files (TokenizerFiles) that source has into directory.</summary>
    public static void CopyTokenizerFiles(string source, string directory)
    {
        foreach (string file in TokenizerFiles)
        {
            string from = Path.Combine(source, file);
            if (File.Exists(from)) File.Copy(from, Path.Combine(directory, file));
        }
    }

    /// <summary>Why path (a file under directory) may not be read, or null when it resolves inside the directory.</summary>
    public static string? Escape(string directory, string path)
    {
        if (!File.Exists(path)) return null;
        FileSystemInfo? target = File.ResolveLinkTarget(path, returnFinalTarget: true);
        if (target is null) return null;
        string resolved = Path.GetFullPath(target.FullName);
        string dir = Path.GetFullPath(Directory.ResolveLinkTarget(directory, true)?.FullName ?? directory);
        if (Under(resolved, dir)) return null;
        // snapshots/REVISION -> the repository folder holding blobs/
        var snapshots = Directory.GetParent(dir);
        if (snapshots is { Name: "snapshots", Parent: { } repo } && Under(resolved, Path.Combine(repo.FullName, "blobs"))) return null;
        return $"is a link to '{resolved}', outside the model directory '{dir}'; refusing to read it";
    }

    /// <summary>Throws ModelFormatException naming path when it resolves outside directory.</summary>
    public static string EnsureInside(string directory, string path) =>
        Escape(directory, path) is { } problem ? throw new ModelFormatException(path, problem) : path;

    /// <summary>EnsureInside for every file a tokenizer load may read: the side files, and config.json for BOS/EOS.</summary>
    public static void EnsureTokenizerFilesInside(string directory)
    {
        foreach (string name in TokenizerFiles.Append("config.json")) EnsureInside(directory, Path.Combine(directory, name));
    }

    private static bool Under(string path, string directory) =>
        path.StartsWith(directory.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
