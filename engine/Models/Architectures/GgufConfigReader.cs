using DistillSpec.Formats.Gguf;

namespace DistillSpec.Models.Architectures;

/// <summary>
/// Typed access to an architecture's "{arch}.*" GGUF hyper-parameters, with errors naming the file
/// and the key. Integers are accepted in any GGUF integer type that holds the value.
/// </summary>
internal sealed class GgufConfigReader(GgufFile file, string architecture)
{
    public GgufFile File => file;

    public ModelFormatException Error(string problem) => new(file.Path, problem);

    public int Int(string key) => OptionalInt(key) ?? throw Error($"metadata key '{architecture}.{key}' is missing (an integer)");

    public int? OptionalInt(string key) => file.OptionalInt($"{architecture}.{key}");

    public float Float(string key) => OptionalFloat(key) ?? throw Error($"metadata key '{architecture}.{key}' is missing (a number)");

    public float? OptionalFloat(string key)
    {
        string full = $"{architecture}.{key}";
        if (!file.TryGet(full, out var value)) return null;
        return value.Value switch
        {
            float f => f,
            double d when Math.Abs(d) <= float.MaxValue => (float)d,
            _ => throw Error($"metadata '{full}' is {value.Type} {value}, expected a float32"),
        };
    }

    public string? OptionalString(string key) =>
        file.TryGet($"{architecture}.{key}", out var value) ? value.Value as string ?? throw Error($"metadata '{architecture}.{key}' is {value.Type}, expected a string") : null;

    public bool HasTensor(string name) => file.Contains(name);

    /// <summary>Rows of token_embd.weight: the vocabulary the weights were made for, which a declared "{arch}.vocab_size" must match.</summary>
    public int Vocabulary()
    {
        int vocab = file.Contains("token_embd.weight") && file.Tensor("token_embd.weight").Shape is [var rows, _]
            ? (int)rows
            : throw Error("tensor 'token_embd.weight' is missing or not a matrix; it sets the vocabulary size");
        if (OptionalInt("vocab_size") is int declared && declared != vocab)
            throw Error($"metadata '{architecture}.vocab_size' is {declared} but token_embd.weight has {vocab} rows");
        return vocab;
    }
}
