using System.Text;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using DistillSpec.SafeTensors;
using DistillSpec.Tokenization;

namespace DistillSpec.Fuzz;

/// <summary>The parsers under fuzzing and the valid files their mutations start from.</summary>
public static class Targets
{
    public static readonly IReadOnlyList<ParserTarget> All =
    [
        new("safetensors", "model.safetensors", SafeTensorsSeeds, ParseSafeTensors, e => e is SafeTensorsException),
        new("gguf", "model.gguf", GgufSeeds, ParseGguf, e => e is ModelFormatException),
        new("config", "config.json", ConfigSeeds, dir => ModelConfig.Load(dir), e => e is ModelFormatException),
        // A whole model from a GGUF file: metadata, architecture, tensor layout and tokenizer.
        new("gguf-model", "model.gguf", GgufModelSeeds, ParseGgufModel, e => e is ModelFormatException),
        // A tokenizer.json that is valid JSON but not byte-level BPE is passed over, and then the
        // directory has no tokenizer: that FileNotFoundException names tokenizer.json and why.
        new("tokenizer", "tokenizer.json", TokenizerSeeds, dir => TextTokenizer.Load(dir), e => e is ModelFormatException or FileNotFoundException),
    ];

    public static ParserTarget Named(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no parser named '{name}'; fuzzable: {string.Join(", ", All.Select(t => t.Name))}");

    private static void ParseSafeTensors(string dir)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        foreach (string name in file.Tensors.Keys) file.ReadFloat32(name);
    }

    private static void ParseGguf(string dir)
    {
        var file = GgufFile.Open(Path.Combine(dir, "model.gguf"));
        foreach (var tensor in file.Tensors) file.ReadFloat32(tensor.Name);
    }

    private static void ParseGgufModel(string dir)
    {
        using var model = LanguageModel.Load(Path.Combine(dir, "model.gguf"), new Backends.ScalarBackend());
        model.Tokenizer.Encode("hello world", addBos: true);
    }

    // Tiny exports of a Llama and a GPT-2 model, with the byte-level tokenizer RandomModel writes.
    private static IReadOnlyList<byte[]> GgufModelSeeds() =>
        [.. new[] { "llama", "gpt2" }.Select(a => Bytes(path =>
        {
            string model = Path.Combine(Path.GetDirectoryName(path)!, a);
            RandomModel.Create(model, RandomModel.ConfigFor(a, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 32, vocab: 260, context: 16), seed: 1);
            GgufExporter.Build(model).Save(path);
        }, "model.gguf"))];

    private static IReadOnlyList<byte[]> SafeTensorsSeeds()
    {
        var a = new SafeTensorsWriter().Metadata("format", "pt")
            .Add("w", [1, 2, 3, 4, 5, 6], [2, 3])
            .Add("h", [0.5f, -1f], [2], DType.F16)
            .Add("b", [1f, 2f, 3f], [3], DType.BF16)
            .Add("empty", [], [0, 4]);
        var b = new SafeTensorsWriter().Add("scalar", [42f], []).Add("v", Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), [4, 2, 2]);
        return [Bytes(a.Save, "model.safetensors"), Bytes(b.Save, "model.safetensors")];
    }

    private static IReadOnlyList<byte[]> GgufSeeds()
    {
        var a = new GgufWriter()
            .Add("general.architecture", "llama").Add("llama.block_count", 2u).Add("llama.rope.freq_base", 10000f)
            .Add("tokenizer.ggml.tokens", new[] { "a", "b", "<|endoftext|>" }).Add("tokenizer.ggml.token_type", new[] { 1, 1, 3 })
            .Add("flag", true).Add("wide", GgufValue.Of(ulong.MaxValue)).Add("bytes", GgufValue.Of(new byte[] { 1, 2, 3 }))
            .AddTensor("token_embd.weight", Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray(), [3, 4])
            .AddTensor("output_norm.weight", [1f, 1f, 1f, 1f], [4], GgmlType.F16);
        var b = new GgufWriter(alignment: 64).Add("name", "tiny").AddTensor("x", [1f, 2f], [1, 2]);
        return [Bytes(a.Save, "model.gguf"), Bytes(b.Save, "model.gguf")];
    }

    private static IReadOnlyList<byte[]> ConfigSeeds()
    {
        var llama = RandomModel.LlamaConfig(64, 2, 4, 2, 192, 300, 512);
        var qwen = llama with { ArchitectureName = "Qwen2ForCausalLM", AttentionBias = true, TiedEmbeddings = false, EosTokenIds = [1, 2] };
        var gpt2 = llama with
        {
            Architecture = Architecture.Gpt2, ArchitectureName = "GPT2LMHeadModel", KvHeads = 4, HeadDim = 16, IntermediateSize = 256,
        };
        return [.. new[] { llama, qwen, gpt2 }.Select(c => Bytes(path => c.Save(Path.GetDirectoryName(path)!), "config.json"))];
    }

    private static IReadOnlyList<byte[]> TokenizerSeeds()
    {
        string G(string s) => string.Concat(Encoding.UTF8.GetBytes(s).Select(ByteUnicodeMap.ByteToken));
        var bytes = Enumerable.Range(0, 256).Select(b => ByteUnicodeMap.ByteToken((byte)b)).ToList();
        string th = G("th"), the = G("the"), space = G(" "), spaceThe = G(" the");
        var tokens = bytes.Concat([th, the, spaceThe]).ToList();
        var merges = new List<(string, string)> { (G("t"), G("h")), (th, G("e")), (space, the) };
        byte[] gpt2Layout = Bytes(path => HfTokenizerFiles.WriteByteLevelBpe(Path.GetDirectoryName(path)!, tokens, merges, ["<|endoftext|>"]), "tokenizer.json");
        // A Qwen/Llama-3 style file: a Split pre-tokenizer with its own regex before ByteLevel, a
        // template post-processor adding BOS, merges as pairs, and added tokens.
        string qwenStyle = """
            {"version":"1.0","added_tokens":[{"id":259,"content":"<|im_start|>","special":true},{"id":260,"content":"<|im_end|>","special":true}],
             "pre_tokenizer":{"type":"Sequence","pretokenizers":[
               {"type":"Split","pattern":{"Regex":"(?i:'s|'t)|\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+"},"behavior":"Isolated","invert":false},
               {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]},
             "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|im_start|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
               "special_tokens":{"<|im_start|>":{"id":"<|im_start|>","ids":[259]}}},
             "decoder":{"type":"ByteLevel"},
             "model":{"type":"BPE","vocab":VOCAB,"merges":MERGES}}
            """
            .Replace("VOCAB", VocabJson(tokens)).Replace("MERGES", System.Text.Json.JsonSerializer.Serialize(new[] { new[] { G("t"), G("h") }, new[] { th, G("e") } }));
        return [gpt2Layout, Encoding.UTF8.GetBytes(qwenStyle)];
    }

    private static string VocabJson(List<string> tokens) =>
        System.Text.Json.JsonSerializer.Serialize(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i));

    // Writes a file with the engine's own writer into a scratch directory and returns its bytes.
    private static byte[] Bytes(Action<string> save, string fileName)
    {
        string dir = Path.Combine(Path.GetTempPath(), "dspec-fuzz-seed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, fileName);
            save(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
