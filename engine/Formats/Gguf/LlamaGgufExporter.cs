using DistillSpec.Models;
using DistillSpec.Tokenization;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Writes a Llama-family model directory as GGUF for llama.cpp's "llama" architecture, with the
/// metadata keys and tensor names of llama.cpp's convert_hf_to_gguf.py, so llama.cpp loads it as
/// it would a converted Hugging Face checkpoint.
/// </summary>
public static class LlamaGgufExporter
{
    public const string Architecture = "llama";

    /// <param name="matrixType">Type of the 2-D weights; norms and biases stay F32 as llama.cpp expects.</param>
    /// <param name="preTokenizer">llama.cpp pre-tokenizer name; null when the tokenizer uses GPT-2's regex.</param>
    public static GgufWriter Build(string modelDirectory, GgmlType matrixType = GgmlType.F32, string? preTokenizer = null)
    {
        var config = ModelConfig.Load(modelDirectory);
        CheckSupported(config, modelDirectory);
        var weights = HfCheckpoint.Load(modelDirectory, config);
        var vocabulary = GgufVocabulary.Read(modelDirectory, config.VocabSize, preTokenizer);
        var tokenizer = TextTokenizer.Load(modelDirectory);
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDirectory)));

        var gguf = new GgufWriter();
        AddHyperParameters(gguf, config, name, matrixType);
        AddTokenizer(gguf, vocabulary, tokenizer);
        AddTensors(gguf, weights, matrixType);
        return gguf;
    }

    private static void CheckSupported(ModelConfig c, string dir)
    {
        if (c.ArchitectureName is not ("LlamaForCausalLM" or "MistralForCausalLM"))
            throw new ModelFormatException(dir,
                $"GGUF export writes llama.cpp's '{Architecture}' architecture (LlamaForCausalLM, MistralForCausalLM); {c.ArchitectureName} is not supported");
    }

    private static void AddHyperParameters(GgufWriter gguf, ModelConfig c, string name, GgmlType matrixType)
    {
        const string a = Architecture;
        gguf.Add("general.architecture", a)
            .Add("general.name", name)
            .Add("general.file_type", (uint)(matrixType == GgmlType.F16 ? 1 : 0)) // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
            .Add($"{a}.vocab_size", (uint)c.VocabSize)
            .Add($"{a}.context_length", (uint)c.MaxPositions)
            .Add($"{a}.embedding_length", (uint)c.HiddenSize)
            .Add($"{a}.block_count", (uint)c.Layers)
            .Add($"{a}.feed_forward_length", (uint)c.IntermediateSize)
            .Add($"{a}.attention.head_count", (uint)c.Heads)
            .Add($"{a}.attention.head_count_kv", (uint)c.KvHeads)
            // Explicit because head_dim need not be hidden / heads.
            .Add($"{a}.attention.key_length", (uint)c.HeadDim)
            .Add($"{a}.attention.value_length", (uint)c.HeadDim)
            .Add($"{a}.rope.freq_base", c.RopeTheta)
            .Add($"{a}.rope.dimension_count", (uint)c.HeadDim)
            .Add($"{a}.attention.layer_norm_rms_epsilon", c.NormEps);
    }

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

    private static void AddTensors(GgufWriter gguf, ModelWeights w, GgmlType matrixType)
    {
        var c = w.Config;
        int d = c.HiddenSize, f = c.IntermediateSize;
        void Matrix(string name, float[] data, int rows, int cols) => gguf.AddTensor(name, data, [rows, cols], matrixType);
        void Vector(string name, float[]? data)
        {
            if (data is not null) gguf.AddTensor(name, data, [data.Length], GgmlType.F32);
        }
        float[] Interleave(float[] data, int heads, int columns) => RopePermutation.ToInterleaved(data, heads, c.HeadDim, columns);

        Matrix("token_embd.weight", w.Embedding, c.VocabSize, d);
        for (int i = 0; i < c.Layers; i++)
        {
            var l = w.Layers[i];
            string p = $"blk.{i}.";
            Vector(p + "attn_norm.weight", l.AttentionNorm);
            Matrix(p + "attn_q.weight", Interleave(l.Query, c.Heads, d), c.QDim, d);
            Matrix(p + "attn_k.weight", Interleave(l.Key, c.KvHeads, d), c.KvDim, d);
            Matrix(p + "attn_v.weight", l.Value, c.KvDim, d);
            Matrix(p + "attn_output.weight", l.Output, d, c.QDim);
            Vector(p + "attn_q.bias", l.QueryBias is null ? null : Interleave(l.QueryBias, c.Heads, 1));
            Vector(p + "attn_k.bias", l.KeyBias is null ? null : Interleave(l.KeyBias, c.KvHeads, 1));
            Vector(p + "attn_v.bias", l.ValueBias);
            Vector(p + "attn_output.bias", l.OutputBias);
            Vector(p + "ffn_norm.weight", l.MlpNorm);
            Matrix(p + "ffn_gate.weight", l.Gate!, f, d);
            Matrix(p + "ffn_up.weight", l.Up, f, d);
            Matrix(p + "ffn_down.weight", l.Down, d, f);
            Vector(p + "ffn_gate.bias", l.GateBias);
            Vector(p + "ffn_up.bias", l.UpBias);
            Vector(p + "ffn_down.bias", l.DownBias);
        }
        Vector("output_norm.weight", w.FinalNorm);
        // Tied models have no output.weight: llama.cpp then reuses token_embd.
        if (w.LmHead is not null) Matrix("output.weight", w.LmHead, c.VocabSize, d);
    }
}
