using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DistillSpec.Backends;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using DistillSpec.Tests.Tokenization;

namespace DistillSpec.Tests.Formats;

public class GgufTests
{
    private static float[] RandomValues(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
    }

    private static GgufFile WriteAndOpen(GgufWriter writer, TempDirectory dir, string name = "t.gguf")
    {
        string path = dir.File(name);
        writer.Save(path);
        return GgufFile.Open(path);
    }

    [Fact]
    public void Metadata_OfEveryValueType_ReadsBackInOrder()
    {
        var values = new (string Key, GgufValue Value)[]
        {
            ("u8", GgufValue.Of((byte)200)), ("i8", GgufValue.Of((sbyte)-100)),
            ("u16", GgufValue.Of((ushort)60000)), ("i16", GgufValue.Of((short)-30000)),
            ("u32", 4_000_000_000u), ("i32", -2_000_000_000), ("u64", GgufValue.Of(ulong.MaxValue)), ("i64", GgufValue.Of(long.MinValue)),
            ("f32", 3.25f), ("f64", GgufValue.Of(-1e300)), ("nan", float.NaN), ("yes", true), ("no", false),
            ("str", "llama ▁é 🦙"), ("empty", ""),
            ("strings", new[] { "a", "Ġthe", "", "<|endoftext|>" }), ("ints", new[] { 1, -2, int.MaxValue }),
            ("floats", new[] { 0.5f, -0f, float.PositiveInfinity }), ("bytes", GgufValue.Of(new byte[] { 1, 2, 255 })),
            ("no strings", Array.Empty<string>()),
        };
        var writer = new GgufWriter();
        foreach (var (key, value) in values) writer.Add(key, value);
        using var dir = new TempDirectory();

        var file = WriteAndOpen(writer, dir);

        Assert.Equal(3u, file.Version);
        Assert.Equal(values.Select(v => v.Key), file.Metadata.Select(p => p.Key));
        foreach (var (key, value) in values)
        {
            Assert.True(file.TryGet(key, out var read), key);
            Assert.Equal(value, read);
        }
        Assert.Equal(GgufValueType.Array, file.Metadata.Single(p => p.Key == "strings").Value.Type);
        Assert.Equal(GgufValueType.String, file.Metadata.Single(p => p.Key == "strings").Value.ElementType);
        Assert.Equal(new[] { 1, -2, int.MaxValue }, file.Get<int[]>("ints"));
        Assert.Equal(4_000_000_000u, file.Get<uint>("u32"));
        var wrongType = Assert.Throws<ModelFormatException>(() => file.Get<string>("u32"));
        Assert.Contains("'u32' is UInt32", wrongType.Message);
        Assert.Contains(file.Path, Assert.Throws<ModelFormatException>(() => file.Get<uint>("absent")).Message);
    }

    [Fact]
    public void Header_IsMagicVersion3AndCounts()
    {
        var writer = new GgufWriter().Add("general.architecture", "llama").Add("k", 1u).AddTensor("w", [1f, 2f], [2]);
        using var dir = new TempDirectory();
        writer.Save(dir.File("h.gguf"));
        byte[] bytes = File.ReadAllBytes(dir.File("h.gguf"));

        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(2ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
    }

    [Fact]
    public void Tensors_F32AreExact_F16WithinHalfPrecision_DimsReversed()
    {
        float[] vector = [0f, -0f, 1.5f, float.MaxValue, float.NegativeInfinity], matrix = RandomValues(21, 1), cube = RandomValues(24, 2), half = RandomValues(21, 3);
        var writer = new GgufWriter()
            .AddTensor("vector", vector, [5])
            .AddTensor("matrix", matrix, [3, 7])
            .AddTensor("cube", cube, [2, 3, 4])
            .AddTensor("half", half, [7, 3], GgmlType.F16);
        using var dir = new TempDirectory();

        var file = WriteAndOpen(writer, dir);

        Assert.Equal(["vector", "matrix", "cube", "half"], file.Tensors.Select(t => t.Name));
        Assert.Equal([7L, 3L], file.Tensor("matrix").Dimensions);
        Assert.Equal([3L, 7L], file.Tensor("matrix").Shape);
        Assert.Equal([4L, 3L, 2L], file.Tensor("cube").Dimensions);
        Assert.Equal(GgmlType.F16, file.Tensor("half").Type);
        Assert.Equal(42, file.Tensor("half").ByteSize);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 32));
        Assert.Equal(0, file.DataOffset % 32);
        foreach (var (name, values) in new[] { ("vector", vector), ("matrix", matrix), ("cube", cube) })
            Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), MemoryMarshal.AsBytes(file.ReadFloat32(name).AsSpan()).ToArray());
        float[] halfBack = file.ReadFloat32("half");
        for (int i = 0; i < half.Length; i++)
            Assert.True(Math.Abs(half[i] - halfBack[i]) <= Math.Abs(half[i]) / 2048 + 1e-7f, $"[{i}] {half[i]} vs {halfBack[i]}");
    }

    [Fact]
    public void CustomAlignment_IsRecordedAndEveryOffsetHonoursIt()
    {
        var writer = new GgufWriter(alignment: 64).AddTensor("a", [1f, 2f, 3f], [3]).AddTensor("b", [4f], [1]).AddTensor("c", RandomValues(5, 4), [5]);
        using var dir = new TempDirectory();

        var file = WriteAndOpen(writer, dir);

        Assert.Equal(64, file.Alignment);
        Assert.Equal(64u, file.Get<uint>("general.alignment"));
        Assert.Equal([0L, 64L, 128L], file.Tensors.Select(t => t.Offset));
        Assert.Equal(0, file.DataOffset % 64);
        Assert.Equal([4f], file.ReadFloat32("b"));
    }

    [Fact]
    public void RopePermutation_InterleavesEachHeadsHalves_AndRoundTrips()
    {
        // One head of dimension 4 with one column: rotate-half rows (0, 1 | 2, 3) pair as (0, 2), (1, 3).
        Assert.Equal([10f, 12f, 11f, 13f], RopePermutation.ToInterleaved([10f, 11f, 12f, 13f], heads: 1, headDim: 4, columns: 1));

        float[] w = RandomValues(3 * 8 * 5, 5);
        float[] permuted = RopePermutation.ToInterleaved(w, heads: 3, headDim: 8, columns: 5);
        Assert.NotEqual(w, permuted);
        Assert.Equal(w, RopePermutation.ToRotateHalf(permuted, heads: 3, headDim: 8, columns: 5));
    }

    [Fact]
    public void RopePermutation_MakesInterleavedRopeMatchHfRotateHalf()
    {
        const int heads = 2, headDim = 8, position = 7;
        float[] q = RandomValues(heads * headDim, 6);
        using var backend = new ScalarBackend();
        using var rotated = backend.Upload(q);
        backend.Rope(rotated, rows: 1, heads, headDim, position, theta: 10000f);
        var hf = new float[q.Length];
        backend.Download(rotated, 0, hf);

        // llama.cpp's "normal" RoPE: adjacent pairs (2i, 2i + 1) at frequency theta^(-2i / headDim).
        float[] llama = RopePermutation.ToInterleaved(q, heads, headDim, columns: 1);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < headDim / 2; i++)
            {
                double angle = position * Math.Pow(10000, -2.0 * i / headDim);
                int at = h * headDim + 2 * i;
                float x0 = llama[at], x1 = llama[at + 1];
                llama[at] = (float)(x0 * Math.Cos(angle) - x1 * Math.Sin(angle));
                llama[at + 1] = (float)(x0 * Math.Sin(angle) + x1 * Math.Cos(angle));
            }

        float[] expected = RopePermutation.ToInterleaved(hf, heads, headDim, columns: 1);
        for (int i = 0; i < q.Length; i++) Assert.Equal(expected[i], llama[i], 1e-5f);
    }

    /// <summary>A Llama with every optional tensor (biases, untied head), GQA, and a tokenizer with merges and 3 padding ids.</summary>
    private static (ModelConfig Config, ModelWeights Weights) WriteLlama(string dir)
    {
        int eot = TinyByteLevelBpe.EndOfTextId;
        var config = RandomModel.LlamaConfig(hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 48, vocab: eot + 4, context: 96, tied: false)
            with { AttentionBias = true, MlpBias = true, BosTokenId = eot, EosTokenIds = [eot] };
        var weights = ModelWeights.Random(config, seed: 7);
        HfCheckpoint.Save(weights, dir);
        TinyByteLevelBpe.WriteTo(dir, TinyByteLevelBpe.Layout.TokenizerJson);
        return (config, weights);
    }

    [Fact]
    public void LlamaExport_ReadsBackFieldForField()
    {
        using var dir = new TempDirectory();
        var (c, w) = WriteLlama(dir.Path);

        var file = WriteAndOpen(GgufExporter.Build(dir.Path), dir, "model.gguf");

        Assert.Equal("llama", file.Get<string>("general.architecture"));
        Assert.Equal(0u, file.Get<uint>("general.file_type"));
        var expected = new Dictionary<string, uint>
        {
            ["llama.vocab_size"] = (uint)c.VocabSize, ["llama.context_length"] = 96, ["llama.embedding_length"] = 32,
            ["llama.block_count"] = 2, ["llama.feed_forward_length"] = 48, ["llama.attention.head_count"] = 4,
            ["llama.attention.head_count_kv"] = 2, ["llama.attention.key_length"] = 8, ["llama.attention.value_length"] = 8,
            ["llama.rope.dimension_count"] = 8,
            ["tokenizer.ggml.bos_token_id"] = (uint)TinyByteLevelBpe.EndOfTextId, ["tokenizer.ggml.eos_token_id"] = (uint)TinyByteLevelBpe.EndOfTextId,
        };
        foreach (var (key, value) in expected) Assert.True(value == file.Get<uint>(key), key);
        Assert.Equal(10000f, file.Get<float>("llama.rope.freq_base"));
        Assert.Equal(1e-5f, file.Get<float>("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal("gpt2", file.Get<string>("tokenizer.ggml.model"));
        Assert.Equal("gpt-2", file.Get<string>("tokenizer.ggml.pre"));
        Assert.False(file.Get<bool>("tokenizer.ggml.add_bos_token"));

        string[] tokens = file.Get<string[]>("tokenizer.ggml.tokens");
        int[] types = file.Get<int[]>("tokenizer.ggml.token_type");
        Assert.Equal(c.VocabSize, tokens.Length);
        Assert.Equal(TinyByteLevelBpe.Tokens(), tokens[..TinyByteLevelBpe.EndOfTextId]);
        Assert.Equal(["<|endoftext|>", "[PAD270]", "[PAD271]", "[PAD272]"], tokens[TinyByteLevelBpe.EndOfTextId..]);
        Assert.All(types[..TinyByteLevelBpe.EndOfTextId], t => Assert.Equal((int)GgufTokenType.Normal, t));
        Assert.Equal([3, 5, 5, 5], types[TinyByteLevelBpe.EndOfTextId..]);
        Assert.Equal(TinyByteLevelBpe.Merges.Select(m => m.Item1 + " " + m.Item2), file.Get<string[]>("tokenizer.ggml.merges"));

        var l = w.Layers[1];
        Assert.Equal(w.Embedding, file.ReadFloat32("token_embd.weight"));
        Assert.Equal([32L, (long)c.VocabSize], file.Tensor("token_embd.weight").Dimensions);
        Assert.Equal(w.LmHead, file.ReadFloat32("output.weight"));
        Assert.Equal(w.FinalNorm, file.ReadFloat32("output_norm.weight"));
        Assert.Equal(l.Query, RopePermutation.ToRotateHalf(file.ReadFloat32("blk.1.attn_q.weight"), 4, 8, 32));
        Assert.Equal(l.Key, RopePermutation.ToRotateHalf(file.ReadFloat32("blk.1.attn_k.weight"), 2, 8, 32));
        Assert.Equal(l.QueryBias, RopePermutation.ToRotateHalf(file.ReadFloat32("blk.1.attn_q.bias"), 4, 8, 1));
        Assert.Equal(l.KeyBias, RopePermutation.ToRotateHalf(file.ReadFloat32("blk.1.attn_k.bias"), 2, 8, 1));
        Assert.NotEqual(l.Query, file.ReadFloat32("blk.1.attn_q.weight"));
        var unpermuted = new (string Name, float[]? Data)[]
        {
            ("attn_norm.weight", l.AttentionNorm), ("attn_v.weight", l.Value), ("attn_output.weight", l.Output),
            ("attn_v.bias", l.ValueBias), ("attn_output.bias", l.OutputBias), ("ffn_norm.weight", l.MlpNorm),
            ("ffn_gate.weight", l.Gate), ("ffn_up.weight", l.Up), ("ffn_down.weight", l.Down),
            ("ffn_gate.bias", l.GateBias), ("ffn_up.bias", l.UpBias), ("ffn_down.bias", l.DownBias),
        };
        foreach (var (name, data) in unpermuted) Assert.Equal(data, file.ReadFloat32("blk.1." + name));
        Assert.Equal([48L, 32L], file.Tensor("blk.1.ffn_down.weight").Dimensions);
        Assert.Equal(3 + 2 * 16, file.Tensors.Count);
    }

    [Fact]
    public void LlamaExport_F16_StoresMatricesAsF16AndNormsAsF32()
    {
        using var dir = new TempDirectory();
        var (_, w) = WriteLlama(dir.Path);

        var file = WriteAndOpen(GgufExporter.Build(dir.Path, GgmlType.F16), dir, "model-f16.gguf");

        Assert.Equal(1u, file.Get<uint>("general.file_type"));
        Assert.All(file.Tensors, t => Assert.Equal(t.Dimensions.Length == 2 ? GgmlType.F16 : GgmlType.F32, t.Type));
        float[] up = file.ReadFloat32("blk.0.ffn_up.weight");
        for (int i = 0; i < up.Length; i++) Assert.True(Math.Abs(up[i] - w.Layers[0].Up[i]) <= Math.Abs(w.Layers[0].Up[i]) / 2048 + 1e-7f);
        Assert.Equal(w.Layers[0].MlpNorm, file.ReadFloat32("blk.0.ffn_norm.weight"));
    }
}
