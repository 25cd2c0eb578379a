namespace DistillSpec.Models;

/// <summary>What loading a model directory checks beyond the format, and where its warnings go.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Reads every weight once more to refuse NaN and Inf, naming the tensor and element (a full pass over the weights).</summary>
    public bool ScanWeights { get; init; }

    /// <summary>Receives problems that do not stop the load (e.g. an lm_head.weight that tied embeddings ignore); null drops them.</summary>
    public Action<string>? Warning { get; init; }

    public static ModelLoadOptions Default { get; } = new();
}
