namespace DistillSpec.Models;

/// <summary>A model file that cannot be used; the message names the file and what was expected.</summary>
public sealed class ModelFormatException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
