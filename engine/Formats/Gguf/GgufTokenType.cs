namespace DistillSpec.Formats.Gguf;

/// <summary>Values of tokenizer.ggml.token_type, as llama.cpp's llama_token_type.</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
