namespace DistillSpec.Models;

/// <summary>What loading a model directory checks beyond the format, and where its warnings go.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Reads every weight once more to refuse NaN and Inf, naming the tensor and element (a full pass over the weights).</summary>
    public bool ScanWeights { get; init; }

    /// <summary>
    /// Keeps matrices that the checkpoint stores quantized (a GGUF file's Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K tensors) in
    /// their stored format, bytes copied as they are, whatever format the load asks for, where the backend supports it:
    /// a Q4_K_M file stays Q4_K and Q6_K. When false, they are decoded and converted to the asked format.
    /// Tensors stored in exactly the asked format are always taken as stored.
    /// </summary>
    public bool KeepQuantized { get; init; } = true;

    /// <summary>Receives problems that do not stop the load (e.g. an lm_head.weight that tied embeddings ignore); null drops them.</summary>
    public Action<string>? Warning { get; init; }

    public static ModelLoadOptions Default { get; } = new();
}
