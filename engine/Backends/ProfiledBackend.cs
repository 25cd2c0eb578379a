using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;

namespace DistillSpec.Backends;

/// <summary>
/// Times every op of a backend that cannot time itself (the CPU backends run each op to
/// completion before returning, so host time is op time). Uploads are not timed: they happen
/// once, at load. Disposing disposes the wrapped backend.
/// </summary>
public sealed class ProfiledBackend(IBackend inner, KernelProfiler profiler, int thread = KernelProfiler.TargetThread) : IBackend
{
    public IBackend Inner => inner;

    public string Name => inner.Name;

    public BackendKind Kind => inner.Kind;

    public IDeviceVerifier? CreateVerifier() => inner.CreateVerifier();

    public IDeviceSampler? CreateSampler(SamplingSettings settings) => inner.CreateSampler(settings);

    public double? PeakMemoryGBps => inner.PeakMemoryGBps;

    public Tensor Allocate(int length) => inner.Allocate(length);

    public Tensor Upload(ReadOnlySpan<float> data) => inner.Upload(data);

    public bool Supports(WeightFormat format) => inner.Supports(format);

    public Tensor UploadMatrix(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format) =>
        inner.UploadMatrix(data, rows, cols, format);

    public Tensor AdoptMatrix(float[] data, int rows, int cols, WeightFormat format) => inner.AdoptMatrix(data, rows, cols, format);

    public Tensor AdoptStored(WeightFormat format, int rows, int cols, byte[] stored) => inner.AdoptStored(format, rows, cols, stored);

    public void Download(Tensor source, int offset, Span<float> destination)
    {
        using (Measure("Download")) inner.Download(source, offset, destination);
    }

    public void Embed(Tensor table, ReadOnlySpan<int> tokens, int dim, Tensor output)
    {
        using (Measure("Embed")) inner.Embed(table, tokens, dim, output);
    }

    public void AddRows(Tensor x, Tensor table, int firstRow, int rows, int dim)
    {
        using (Measure("AddRows")) inner.AddRows(x, table, firstRow, rows, dim);
    }

    // Split like IlgpuBackend's kernels, so tables from both kinds of backend line up.
    public void MatMul(Tensor x, int rows, int inDim, Tensor weight, int outDim, Tensor? bias, Tensor y)
    {
        using (Measure(rows == 1 ? "MatVec" : "MatMul")) inner.MatMul(x, rows, inDim, weight, outDim, bias, y);
    }

    public void RmsNorm(Tensor x, Tensor weight, int rows, int dim, float eps, Tensor y)
    {
        using (Measure("RmsNorm")) inner.RmsNorm(x, weight, rows, dim, eps, y);
    }

    public void LayerNorm(Tensor x, Tensor weight, Tensor bias, int rows, int dim, float eps, Tensor y)
    {
        using (Measure("LayerNorm")) inner.LayerNorm(x, weight, bias, rows, dim, eps, y);
    }

    public void Rope(Tensor x, int rows, int heads, int headDim, int startPos, float theta)
    {
        using (Measure("Rope")) inner.Rope(x, rows, heads, headDim, startPos, theta);
    }

    public void CopyRows(Tensor source, int sourceRow, Tensor destination, int destinationRow, int rows, int width)
    {
        using (Measure("CopyRows")) inner.CopyRows(source, sourceRow, destination, destinationRow, rows, width);
    }

    public void Attention(Tensor q, Tensor keys, Tensor values, int rows, int startPos, int heads, int kvHeads, int headDim, Tensor output)
    {
        using (Measure("Attention")) inner.Attention(q, keys, values, rows, startPos, heads, kvHeads, headDim, output);
    }

    public void SwiGlu(Tensor gate, Tensor up, int length, Tensor output)
    {
        using (Measure("SwiGlu")) inner.SwiGlu(gate, up, length, output);
    }

    public void Gelu(Tensor x, int length)
    {
        using (Measure("Gelu")) inner.Gelu(x, length);
    }

    public void Add(Tensor x, Tensor y, int length)
    {
        using (Measure("Add")) inner.Add(x, y, length);
    }

    public void Softmax(Tensor x, int rows, int cols)
    {
        using (Measure("Softmax")) inner.Softmax(x, rows, cols);
    }

    public void Dispose() => inner.Dispose();

    private KernelProfiler.Scope Measure(string name) => profiler.Measure(name, thread);
}
