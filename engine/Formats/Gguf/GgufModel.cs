using DistillSpec.Models;
using DistillSpec.Models.Architectures;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// A llama.cpp GGUF file as a model: general.architecture picks the registered architecture, which
/// reads its "{arch}.*" hyper-parameters and names its tensors; every tensor the config implies must
/// be there with the shape it implies, and every tensor there must be used.
/// </summary>
internal static class GgufModel
{
    /// <summary>A model named by a file rather than a directory is taken as GGUF; opening it checks the magic.</summary>
    public static bool IsGgufFile(string path) => File.Exists(path);

    public static ModelArchitecture Architecture(GgufFile file)
    {
        string name = file.TryGet("general.architecture", out _)
            ? file.Get<string>("general.architecture")
            : throw new ModelFormatException(file.Path, "metadata key 'general.architecture' is missing; it names the model's architecture");
        return ModelArchitectures.ByGgufName(name)
            ?? throw new ModelFormatException(file.Path, $"general.architecture is \"{name}\", which is not supported; supported: {string.Join(", ", ModelArchitectures.GgufNames)}");
    }

    public static ModelConfig ReadConfig(GgufFile file)
    {
        var architecture = Architecture(file);
        var config = architecture.ReadGgufConfig(new GgufConfigReader(file, architecture.GgufName));
        int? bos = TokenId(file, "tokenizer.ggml.bos_token_id", config.VocabSize);
        int? eos = TokenId(file, "tokenizer.ggml.eos_token_id", config.VocabSize);
        return (config with { BosTokenId = bos, EosTokenIds = eos is int e ? [e] : [] }).Validate(file.Path);
    }

    private static int? TokenId(GgufFile file, string key, int vocab) =>
        file.OptionalInt(key) is int id && id >= vocab
            ? throw new ModelFormatException(file.Path, $"'{key}' is {id}, outside the {vocab} tokens")
            : file.OptionalInt(key);

    public static ModelWeights ReadWeights(GgufFile file, ModelConfig config, ModelLoadOptions? options = null)
    {
        using var stream = OpenStream(file, config, options);
        return stream.ReadAll();
    }

    public static WeightStream OpenStream(GgufFile file, ModelConfig config, ModelLoadOptions? options = null, Func<Backends.WeightFormat, bool>? keep = null)
    {
        var data = file.OpenData();
        return WeightStream.Create(new WeightStream.Checkpoint(
            file.Path, "the metadata", file.Tensors.Sum(t => t.ElementCount),
            name => file.Contains(name) ? file.Tensor(name).Shape : null,
            (name, destination) => data.ReadSingle(file.Tensor(name), destination),
            name => name,
            used => CheckAllUsed(file, config, used),
            data)
        {
            StoredFormat = name => GgmlTypes.WeightFormat(file.Tensor(name).Type),
            ReadRows = (name, first, rowBytes, destination) => data.ReadBytes(file.Tensor(name), first * rowBytes, destination),
        }, config, hf: false, options, keep);
    }

    private static void CheckAllUsed(GgufFile file, ModelConfig config, IReadOnlySet<string> used)
    {
        var unused = file.Tensors.Select(t => t.Name).Where(n => !used.Contains(n)).ToList();
        if (unused.Count > 0)
            throw new ModelFormatException(file.Path,
                $"{unused.Count} tensors are not used by the {config.ArchitectureName} layout the metadata describes: " +
                string.Join(", ", unused.Take(8)) + (unused.Count > 8 ? ", ..." : ""));
    }
}
