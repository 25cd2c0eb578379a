using DistillSpec.Backends;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;

namespace DistillSpec.Tests.Formats;

/// <summary>
/// GGUF files that parse but do not describe a model we can run: each is a valid export with one
/// thing changed, loaded through the same path as `dspec generate -m FILE.gguf`.
/// </summary>
public class GgufMalformedModelTests
{
    /// <summary>What to change in a valid file: metadata set (null drops the key), tensors dropped and added.</summary>
    private sealed class Edit
    {
        public Dictionary<string, GgufValue?> Metadata { get; } = [];
        public HashSet<string> DropTensors { get; } = [];
        public List<(string Name, float[] Data, int[] Shape)> AddTensors { get; } = [];

        public void Set(string key, GgufValue value) => Metadata[key] = value;

        public void Drop(string key) => Metadata[key] = null;
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "no architecture", "metadata key 'general.architecture' is missing" },
        { "unsupported architecture", "general.architecture is \"mamba\", which is not supported; supported: llama, qwen2, phi3, gpt2" },
        { "missing hyper-parameter", "metadata key 'llama.embedding_length' is missing (an integer)" },
        { "hyper-parameter of the wrong type", "metadata 'llama.block_count' is String, expected an integer" },
        { "negative hyper-parameter", "metadata 'llama.attention.head_count' is -4, outside 0..2147483647" },
        { "vocab_size against the embedding", "metadata 'llama.vocab_size' is 300 but token_embd.weight has 260 rows" },
        { "huge dimensions", "the metadata implies at least" },
        { "heads that do not divide", "num_attention_heads (4) must be a multiple of num_key_value_heads (3)" },
        { "scaled rope", "metadata 'llama.rope.scaling.type' is \"linear\"; scaled rotary embeddings are not supported" },
        { "missing tensor", "tensor 'blk.1.ffn_down.weight' is missing; expected shape [32, 64]" },
        { "shape against the metadata", "tensor 'blk.0.ffn_gate.weight' has shape [64, 32], expected [96, 32] from the metadata" },
        { "extra tensor", "1 tensors are not used by the LlamaForCausalLM layout the metadata describes: rope_freqs.weight" },
        { "no tokenizer", "metadata key 'tokenizer.ggml.model' is missing; the file carries no tokenizer" },
        { "unknown tokenizer model", "'tokenizer.ggml.model' is \"bert\"; supported tokenizer models: gpt2 (byte-level BPE), llama (SentencePiece BPE)" },
        { "unknown pre-tokenizer", "'tokenizer.ggml.pre' is \"falcon\", a pre-tokenizer this engine does not reproduce; supported: gpt-2, llama-bpe, qwen2" },
        { "more tokens than rows", "'tokenizer.ggml.tokens' holds 261 tokens but token_embd.weight has only 260 rows" },
        { "token types of another length", "'tokenizer.ggml.token_type' has 3 entries for 260 tokens" },
        { "bos outside the tokens", "'tokenizer.ggml.bos_token_id' is 5000, outside the 260 tokens" },
        { "merge without a space", "'tokenizer.ggml.merges' entry 0 is \"ab\", expected \"left right\"" },
    };

    private static Action<GgufFile, Edit> ChangeFor(string name) => name switch
    {
        "no architecture" => (_, e) => e.Drop("general.architecture"),
        "unsupported architecture" => (_, e) => e.Set("general.architecture", "mamba"),
        "missing hyper-parameter" => (_, e) => e.Drop("llama.embedding_length"),
        "hyper-parameter of the wrong type" => (_, e) => e.Set("llama.block_count", "two"),
        "negative hyper-parameter" => (_, e) => e.Set("llama.attention.head_count", -4),
        "vocab_size against the embedding" => (_, e) => e.Set("llama.vocab_size", 300u),
        "huge dimensions" => (_, e) => { e.Set("llama.embedding_length", 65536u); e.Set("llama.block_count", 1000u); },
        "heads that do not divide" => (_, e) => e.Set("llama.attention.head_count_kv", 3u),
        "scaled rope" => (_, e) => e.Set("llama.rope.scaling.type", "linear"),
        "missing tensor" => (_, e) => e.DropTensors.Add("blk.1.ffn_down.weight"),
        "shape against the metadata" => (_, e) => e.Set("llama.feed_forward_length", 96u),
        "extra tensor" => (_, e) => e.AddTensors.Add(("rope_freqs.weight", new float[4], [4])),
        "no tokenizer" => (_, e) => e.Drop("tokenizer.ggml.model"),
        "unknown tokenizer model" => (_, e) => e.Set("tokenizer.ggml.model", "bert"),
        "unknown pre-tokenizer" => (_, e) => e.Set("tokenizer.ggml.pre", "falcon"),
        "more tokens than rows" => (f, e) => e.Set("tokenizer.ggml.tokens", f.Get<string[]>("tokenizer.ggml.tokens").Append("extra").ToArray()),
        "token types of another length" => (_, e) => e.Set("tokenizer.ggml.token_type", new[] { 1, 1, 1 }),
        "bos outside the tokens" => (_, e) => e.Set("tokenizer.ggml.bos_token_id", 5000u),
        "merge without a space" => (_, e) => e.Set("tokenizer.ggml.merges", new[] { "ab" }),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedModel_IsRejectedWithAMessageNamingTheFileAndTheProblem(string name, string phrase)
    {
        using var dir = new TempDirectory();
        string model = GgufModelTests.WriteRandom(dir, "llama");
        string valid = dir.File("valid.gguf"), broken = dir.File("broken.gguf");
        GgufExporter.Build(model).Save(valid);
        Rewrite(GgufFile.Open(valid), ChangeFor(name)).Save(broken);

        var e = Assert.Throws<ModelFormatException>(() => LanguageModel.Load(broken, new ScalarBackend()).Dispose());

        Assert.Contains(broken, e.Message);
        Assert.Contains(phrase, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static GgufWriter Rewrite(GgufFile source, Action<GgufFile, Edit> change)
    {
        var edit = new Edit();
        change(source, edit);
        var writer = new GgufWriter();
        foreach (var (key, value) in source.Metadata)
            if (!edit.Metadata.TryGetValue(key, out var replaced)) writer.Add(key, value);
            else if (replaced is not null) writer.Add(key, replaced);
        foreach (var (key, value) in edit.Metadata)
            if (value is not null && !source.TryGet(key, out _)) writer.Add(key, value);
        foreach (var t in source.Tensors.Where(t => !edit.DropTensors.Contains(t.Name)))
            writer.AddTensor(t.Name, source.ReadFloat32(t.Name), t.Shape.Select(d => (int)d).ToArray(), t.Type);
        foreach (var (name, data, shape) in edit.AddTensors) writer.AddTensor(name, data, shape);
        return writer;
    }
}
