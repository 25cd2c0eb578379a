namespace DistillSpec.Formats.Gguf;

/// <summary>Constants of the container shared by the reader and the writer.</summary>
internal static class GgufFormat
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    public const uint Version = 3;
    public const int DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";
    public const int MaxDimensions = 4; // GGML_MAX_DIMS

    public static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;
}
