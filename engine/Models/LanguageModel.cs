using DistillSpec.Backends;
using DistillSpec.Tokenization;

namespace DistillSpec.Models;

/// <summary>A Hugging Face model directory or GGUF file loaded onto a backend: config, transformer and tokenizer.</summary>
public sealed class LanguageModel : IDisposable
{
    private LanguageModel(string directory, ModelConfig config, Transformer transformer, TextTokenizer tokenizer)
    {
        Directory = directory;
        Config = config;
        Transformer = transformer;
        Tokenizer = tokenizer;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }
    public Transformer Transformer { get; }
    public TextTokenizer Tokenizer { get; }

    public static LanguageModel Load(string directory, IBackend backend, WeightFormat format = WeightFormat.F32, ModelLoadOptions? options = null)
    {
        if (Formats.Gguf.GgufModel.IsGgufFile(directory))
        {
            // One parse of the header serves config, tokenizer and weights.
            var file = Formats.Gguf.GgufFile.Open(directory);
            var ggufConfig = Formats.Gguf.GgufModel.ReadConfig(file);
            var ggufTokenizer = GgufTokenizer.Load(file, ggufConfig.VocabSize);
            using var ggufWeights = Formats.Gguf.GgufModel.OpenStream(file, ggufConfig, options, KeepStored(backend, format, options));
            return new LanguageModel(directory, ggufConfig, new Transformer(ggufWeights, backend, format), ggufTokenizer);
        }
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"model '{directory}' does not exist (expected a model directory or a GGUF file)");
        var config = ModelConfig.Load(directory);
        var tokenizer = TextTokenizer.Load(directory);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ModelFormatException(directory,
                $"tokenizer has {tokenizer.VocabSize} tokens but config.json's vocab_size is {config.VocabSize}");
        using var weights = HfCheckpoint.OpenStream(directory, config, options, KeepStored(backend, format, options));
        return new LanguageModel(directory, config, new Transformer(weights, backend, format), tokenizer);
    }

    // Which stored formats a matrix is taken in as stored: the asked one, and any quantized one unless the caller wants it converted.
    private static Func<WeightFormat, bool> KeepStored(IBackend backend, WeightFormat format, ModelLoadOptions? options) =>
        stored => stored != WeightFormat.F32 && backend.Supports(stored)
                  && (stored == format || (options ?? ModelLoadOptions.Default).KeepQuantized && BlockFormats.IsBlockFormat(stored));

    public void Dispose() => Transformer.Dispose();
}
