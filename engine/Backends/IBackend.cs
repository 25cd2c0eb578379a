using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Backends;

/// <summary>Where a backend computes.</summary>
public enum BackendKind
{
    /// <summary>On the host: every op has finished when it returns.</summary>
    Cpu,

    /// <summary>On an accelerator with its own memory: ops are queued, and only Download waits for them.</summary>
    Device,
}

/// <summary>
/// The small operation set the transformer is written in. Matrices are row-major and
/// Linear weights keep Hugging Face's (out, in) layout. "rows" is the number of token
/// positions processed at once (1 for decode, k for prefill or verification).
/// </summary>
public interface IBackend : IDisposable
{
    string Name { get; }

    BackendKind Kind => BackendKind.Cpu;

    /// <summary>This backend with every op timed into the profiler on the trace row traceThread.</summary>
    IBackend Profiled(KernelProfiler profiler, int traceThread) => new ProfiledBackend(this, profiler, traceThread);

    /// <summary>
    /// A verifier that runs speculative decoding's accept/reject test where this backend keeps the
    /// target's logits, or null when verification should run on the host. The caller disposes it.
    /// </summary>
    IDeviceVerifier? CreateVerifier() => null;

    /// <summary>
    /// A sampler that draws from logits where this backend keeps them, reading back only the token
    /// id, or null when sampling should run on the host. The caller disposes it.
    /// </summary>
    IDeviceSampler? CreateSampler(SamplingSettings settings) => null;

    /// <summary>
    /// The device's peak memory bandwidth in GB/s, the roofline of memory-bound kernels such as
    /// decoding's matrix-vector products, where the backend knows it; else null.
    /// </summary>
    double? PeakMemoryGBps => null;

    Tensor Allocate(int length);

    Tensor Upload(ReadOnlySpan<float> data);

    void Download(Tensor source, int offset, Span<float> destination);

    /// <summary>Whether UploadMatrix keeps weights in this format.</summary>
    bool Supports(WeightFormat format) => format == WeightFormat.F32;

    // A weight matrix (rows, cols) kept in `format`; MatMul and Embed accept it in place of an f32 tensor.
    Tensor UploadMatrix(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format) =>
        format == WeightFormat.F32 ? Upload(data) : throw new NotSupportedException($"backend {Name} does not support {format} weights");

    /// <summary>
    /// As UploadMatrix, but data is handed over: a backend that keeps host f32 weights as given keeps
    /// data itself instead of a copy, so a model loads without a second copy of its weights. The
    /// caller must not change data afterwards. A vector is a matrix of one row.
    /// </summary>
    Tensor AdoptMatrix(float[] data, int rows, int cols, WeightFormat format) => UploadMatrix(data, rows, cols, format);

    /// <summary>
    /// A (rows, cols) weight matrix handed over as a checkpoint stores it (ggml blocks, BF16 bits, f32),
    /// in a format this backend Supports. A backend that keeps that format keeps these bytes, so the
    /// weights are never widened on the way in; the default decodes them and calls UploadMatrix.
    /// </summary>
    Tensor AdoptStored(WeightFormat format, int rows, int cols, byte[] stored) =>
        UploadMatrix(WeightFormats.Decode(format, stored, checked(rows * cols)), rows, cols, format);

    // output (tokens.Length, dim) = table[tokens]
    void Embed(Tensor table, ReadOnlySpan<int> tokens, int dim, Tensor output);

    // x (rows, dim) += table[firstRow .. firstRow + rows): learned positions
    void AddRows(Tensor x, Tensor table, int firstRow, int rows, int dim);

    // y (rows, outDim) = x (rows, inDim) * weight (outDim, inDim)^T + bias (outDim)
    void MatMul(Tensor x, int rows, int inDim, Tensor weight, int outDim, Tensor? bias, Tensor y);

    // y (rows, dim) = x / rms(x) * weight
    void RmsNorm(Tensor x, Tensor weight, int rows, int dim, float eps, Tensor y);

    // y (rows, dim) = (x - mean) / std * weight + bias
    void LayerNorm(Tensor x, Tensor weight, Tensor bias, int rows, int dim, float eps, Tensor y);

    // x (rows, heads * headDim), rotated in place; row r sits at position startPos + r.
    // Hugging Face rotate-half convention: pairs (i, i + headDim/2).
    void Rope(Tensor x, int rows, int heads, int headDim, int startPos, float theta);

    // destination rows [destinationRow, +rows) = source rows [sourceRow, +rows), both of width `width`
    void CopyRows(Tensor source, int sourceRow, Tensor destination, int destinationRow, int rows, int width);

    // Causal attention over the cache: query row r (position startPos + r) attends to cache
    // positions 0 ..= startPos + r. q, output (rows, heads * headDim); keys, values
    // (capacity, kvHeads * headDim); query head h reads kv head h / (heads / kvHeads).
    void Attention(Tensor q, Tensor keys, Tensor values, int rows, int startPos,
        int heads, int kvHeads, int headDim, Tensor output);

    // output = silu(gate) * up, elementwise over length; output may alias gate or up
    void SwiGlu(Tensor gate, Tensor up, int length, Tensor output);

    // x = gelu(x) in place (tanh approximation, GPT-2's gelu_new)
    void Gelu(Tensor x, int length);

    // x += y
    void Add(Tensor x, Tensor y, int length);

    // softmax over each row of x (rows, cols), in place
    void Softmax(Tensor x, int rows, int cols);
}
