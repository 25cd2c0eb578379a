using DistillSpec.Chat;
using DistillSpec.Models;
using DistillSpec.Models.Architectures;
using DistillSpec.Tokenization;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Writes a model directory of any registered architecture as GGUF, with the metadata keys and
/// tensor names of llama.cpp's convert_hf_to_gguf.py, so llama.cpp loads it as it would a converted
/// Hugging Face checkpoint, and GgufModel reads it back.
/// </summary>
public static class GgufExporter
{
    /// <param name="matrixType">Type of the 2-D weights (F32, F16, BF16 or a block type; a K-quant falls back on rows that are not
    /// whole super-blocks); norms and biases stay F32 as llama.cpp expects.</param>
    /// <param name="preTokenizer">llama.cpp pre-tokenizer name; null picks it from the tokenizer's split regex.</param>
    public static GgufWriter Build(string modelDirectory, GgmlType matrixType = GgmlType.F32, string? preTokenizer = null)
    {
        var config = ModelConfig.Load(modelDirectory);
        var architecture = ModelArchitectures.Of(config);
        var weights = HfCheckpoint.Load(modelDirectory, config);
        var vocabulary = GgufVocabulary.Read(modelDirectory, config.VocabSize, preTokenizer);
        var tokenizer = TextTokenizer.Load(modelDirectory);
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory)));

        var gguf = new GgufWriter();
        gguf.Add("general.architecture", architecture.GgufName)
            .Add("general.name", name)
            .Add("general.file_type", FileType(matrixType));
        architecture.WriteGgufConfig(config, gguf);
        AddTokenizer(gguf, vocabulary, tokenizer);
        if (ChatTemplate.FromModelDirectory(modelDirectory) is { } template) gguf.Add("tokenizer.chat_template", template.Source);
        foreach (var tensor in architecture.GgufTensors(weights))
            gguf.AddTensor(tensor.Name, tensor.Export(), tensor.Shape, tensor.Shape.Length == 2 ? ForRows(matrixType, tensor.Shape[^1]) : GgmlType.F32);
        return gguf;
    }

    // A K-quant needs rows of whole 256-value super-blocks; other rows fall back as llama.cpp's quantizer
    // does (WeightFormats.ForRow: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0).
    private static GgmlType ForRows(GgmlType type, int cols)
    {
        if (GgmlTypes.BlockFormat(type) is not { } format) return type;
        var fitted = Backends.WeightFormats.ForRow(format, cols);
        return fitted == format ? type : Enum.GetValues<GgmlType>().First(t => GgmlTypes.BlockFormat(t) == fitted);
    }

    // llama.cpp's llama_ftype for a file whose matrices are all of one type (or fall back from it).
    private static uint FileType(GgmlType matrixType) => matrixType switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q8_0 => 7,
        GgmlType.Q4_K => 14,  // Q4_K_S: every matrix Q4_K
        GgmlType.Q5_K => 16,  // Q5_K_S
        GgmlType.Q6_K => 18,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(matrixType), matrixType, "no llama.cpp file type for these matrices"),
    };

    private static void AddTokenizer(GgufWriter gguf, GgufVocabulary v, TextTokenizer tokenizer)
    {
        gguf.Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.pre", v.PreTokenizer)
            .Add("tokenizer.ggml.tokens", v.Tokens)
            .Add("tokenizer.ggml.token_type", v.TokenTypes)
            .Add("tokenizer.ggml.merges", v.Merges);
        if (tokenizer.BosId is int bos) gguf.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        if (tokenizer.EosIds.Count > 0) gguf.Add("tokenizer.ggml.eos_token_id", (uint)tokenizer.EosIds[0]);
        // llama.cpp's gpt2 model adds BOS unless told otherwise; follow the model directory's convention.
        gguf.Add("tokenizer.ggml.add_bos_token", tokenizer.AddBos)
            .Add("tokenizer.ggml.add_eos_token", false);
    }
}
