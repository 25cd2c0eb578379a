namespace DistillSpec.SafeTensors;

/// <summary>A safetensors file, index or directory is malformed or lacks what was asked for. The message names the file.</summary>
public sealed class SafeTensorsException : Exception
{
    public SafeTensorsException(string message) : base(message) { }

    public SafeTensorsException(string message, Exception inner) : base(message, inner) { }

    internal static SafeTensorsException ForFile(string file, string detail, Exception? inner = null) =>
        Make($"safetensors file '{file}': {detail}", inner);

    internal static SafeTensorsException ForTensor(string file, string tensor, string detail) =>
        new($"safetensors file '{file}': tensor '{tensor}': {detail}");

    internal static SafeTensorsException ForIndex(string indexFile, string detail, Exception? inner = null) =>
        Make($"safetensors index '{indexFile}': {detail}", inner);

    internal static SafeTensorsException ForDirectory(string directory, string detail) =>
        new($"model directory '{directory}': {detail}");

    private static SafeTensorsException Make(string message, Exception? inner) =>
        inner is null ? new SafeTensorsException(message) : new SafeTensorsException(message, inner);
}
