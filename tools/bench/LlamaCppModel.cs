using System.Runtime.InteropServices;
using LLama;
using LLama.Common;
using LLama.Native;

namespace DistillSpec.Bench;

/// <summary>
/// llama.cpp, through LLamaSharp's CPU build, running a GGUF file with the same calling pattern
/// as our Transformer.Forward: tokens at positions [start, start + k), logits for the last
/// position or for all of them. One sequence; the KV cache is f32 like ours.
/// </summary>
/// <remarks>
/// llama.cpp's CPU flash attention (on by default) rounds through f16, which moves logits by about
/// 1e-4; without it our f32 export reproduces our logits to about 1e-7, so logit checks turn it off.
/// </remarks>
internal sealed class LlamaCppModel : IDisposable
{
    private static readonly List<string> s_problems = [];
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    /// <param name="flashAttention">null keeps llama.cpp's default (auto).</param>
    public LlamaCppModel(string ggufPath, int threads, int contextSize, int batchSize, bool? flashAttention = null)
    {
        var parameters = new ModelParams(ggufPath)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)batchSize,
            UBatchSize = (uint)batchSize,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = flashAttention,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
    }

    public int VocabSize => _weights.Vocab.Count;

    /// <summary>
    /// Keeps llama.cpp's own log to warnings and errors, collected for the report. Must run before
    /// the first native call; afterwards the native library is loaded and this throws.
    /// </summary>
    public static void QuietLogs() =>
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level is LLamaLogLevel.Warning or LLamaLogLevel.Error)
                lock (s_problems) s_problems.Add(message.TrimEnd());
        });

    public static IReadOnlyList<string> LogProblems
    {
        get { lock (s_problems) return s_problems.ToList(); }
    }

    /// <summary>The CPU features the loaded llama.cpp build uses (e.g. "AVX512 = 1 | ...").</summary>
    public static string SystemInfo() => Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info()) ?? "";

    public void Clear() => _context.NativeHandle.MemoryClear(true);

    /// <summary>Drops the sequence's cached positions from `start` on.</summary>
    public void Forget(int start) => _context.NativeHandle.MemorySequenceRemove(LLamaSeqId.Zero, (LLamaPos)start, (LLamaPos)(-1));

    public void Evaluate(ReadOnlySpan<int> tokens, int start, bool allLogits)
    {
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++)
            _batch.Add((LLamaToken)tokens[i], start + i, LLamaSeqId.Zero, allLogits || i == tokens.Length - 1);
        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama.cpp decode of {tokens.Length} tokens at position {start} failed: {result}");
    }

    /// <summary>Logits of the index-th token of the last Evaluate (which must have asked for them).</summary>
    public ReadOnlySpan<float> Logits(int index) => _context.NativeHandle.GetLogitsIth(index);

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
