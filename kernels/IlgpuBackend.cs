using DistillSpec.Backends;
using DistillSpec.Profiling;
using DistillSpec.Sampling;
using DistillSpec.Speculative;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace DistillSpec.Kernels;

/// <summary>
/// IBackend on an ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU emulator for tests). Weights
/// (f32, or BF16 and Q8_0 kept compact and expanded inside the kernels), activations and the KV
/// cache live in device memory; Download reads back only what is asked, and CreateSampler and
/// CreateVerifier let decoding read back token ids instead of logits.
/// Kernels are compiled once here; launches allocate no device memory except the token and
/// RoPE-frequency buffers, which grow or appear once per shape. Everything runs in order on the
/// accelerator's default stream. The accelerator's context must have ILGPU.Algorithms enabled
/// (<c>Context.Create(b => ... .EnableAlgorithms())</c>) for XMath. Not thread-safe.
/// </summary>
public sealed class IlgpuBackend : IBackend
{
    private readonly Accelerator _accelerator;
    private readonly AcceleratorStream _stream;
    private readonly IDisposable? _owned;
    private readonly KernelProfiler? _profiler;
    private readonly bool _deviceTimers;
    private readonly int _group, _tile;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _noBias;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _argmaxResult;
    private readonly Dictionary<(int, float), MemoryBuffer1D<float, Stride1D.Dense>> _inverseFrequencies = [];
    private readonly Dictionary<WeightFormat, WeightKernels> _weightKernels = [];
    private MemoryBuffer1D<int, Stride1D.Dense> _tokens;
    private ProfilingMarker? _launchStart;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>> _rmsNorm;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>> _layerNorm;
    private readonly Action<KernelConfig, ArrayView<float>, int> _softmax;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> _attention;
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<int>> _argmax;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _addFrom;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _swiGlu;
    private readonly Action<Index1D, ArrayView<float>> _gelu;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _rope;

    /// <param name="accelerator">Not disposed by this backend.</param>
    /// <param name="groupSize">Threads per group for the row kernels, a power of two; defaults to 256, capped by the device.</param>
    /// <param name="profiler">When set, every launch is synchronised and timed (device markers when the context has profiling enabled).</param>
    public IlgpuBackend(Accelerator accelerator, int? groupSize = null, KernelProfiler? profiler = null)
        : this(accelerator, groupSize, profiler, owned: null) { }

    /// <param name="owned">Disposed with the backend, after its buffers: the context a selector created for it.</param>
    internal IlgpuBackend(Accelerator accelerator, int? groupSize, KernelProfiler? profiler, IDisposable? owned)
    {
        _accelerator = accelerator;
        _stream = accelerator.DefaultStream;
        _owned = owned;
        _profiler = profiler;
        _deviceTimers = profiler is not null && accelerator.Context.Properties.EnableProfiling;
        _group = FloorPowerOfTwo(Math.Min(groupSize ?? 256, accelerator.MaxNumThreadsPerGroup));
        _tile = FloorPowerOfTwo((int)Math.Sqrt(_group));

        _rmsNorm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>>(NormKernels.RmsNorm);
        _layerNorm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>>(NormKernels.LayerNorm);
        _softmax = accelerator.LoadStreamKernel<ArrayView<float>, int>(NormKernels.Softmax);
        _attention = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(AttentionKernel.Attend);
        _argmax = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<int>>(ArgmaxKernel.Argmax);
        _addFrom = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.AddFrom);
        _swiGlu = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ElementwiseKernels.SwiGlu);
        _gelu = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(ElementwiseKernels.Gelu);
        _rope = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ElementwiseKernels.Rope);

        _noBias = accelerator.Allocate1D<float>(1);
        _argmaxResult = accelerator.Allocate1D<int>(1);
        _tokens = accelerator.Allocate1D<int>(Models.Transformer.ChunkRows);
    }

    public string Name => $"ilgpu-{_accelerator.AcceleratorType.ToString().ToLowerInvariant()} ({_accelerator.Name})";

    public Accelerator Accelerator => _accelerator;

    /// <summary>The trace row this backend's launches are recorded on (KernelProfiler.DraftThread for a draft's own backend).</summary>
    public int TraceThread { get; set; } = KernelProfiler.TargetThread;

    public BackendKind Kind => BackendKind.Device;

    /// <summary>
    /// This backend, recording on traceThread: it times its own launches (host timers around a
    /// launch would measure only the queueing), so only the profiler it was opened with can be used.
    /// </summary>
    public IBackend Profiled(KernelProfiler profiler, int traceThread)
    {
        if (!ReferenceEquals(profiler, _profiler))
            throw new ArgumentException("an ILGPU backend records into the profiler it was created with; open it with that profiler", nameof(profiler));
        TraceThread = traceThread;
        return this;
    }

    public IDeviceVerifier? CreateVerifier() => DeviceVerifier.For(this);

    public IDeviceSampler? CreateSampler(SamplingSettings settings) => DeviceSampler.For(this, settings);

    // CUDA reports the memory clock in kHz and the bus width in bits; HBM and GDDR move data on both clock edges.
    public double? PeakMemoryGBps => _accelerator is CudaAccelerator cuda && cuda.MemoryClockRate > 0
        ? 2.0 * cuda.MemoryClockRate * 1e3 * (cuda.MemoryBusWidth / 8.0) / 1e9
        : null;

    /// <summary>Threads per group of the row kernels (norms, matrix-vector, attention, softmax).</summary>
    public int GroupSize => _group;

    /// <summary>Side of the square output tile of the matrix-matrix kernel (tile x tile threads per group).</summary>
    public int TileSize => _tile;

    public Tensor Allocate(int length)
    {
        var buffer = _accelerator.Allocate1D<float>(length);
        buffer.View.MemSetToZero(_stream);
        return new GpuTensor(buffer);
    }

    public Tensor Upload(ReadOnlySpan<float> data)
    {
        var buffer = _accelerator.Allocate1D<float>(data.Length);
        buffer.View.CopyFromCPU(_stream, data);
        return new GpuTensor(buffer);
    }

    public bool Supports(WeightFormat format) => DeviceWeightFormats.Supports(format);

    // Quantised on the host exactly as the CPU backends do, so every backend computes with the same weights.
    public Tensor UploadMatrix(ReadOnlySpan<float> data, int rows, int cols, WeightFormat format)
    {
        if (data.Length != rows * cols)
            throw new ArgumentException($"matrix ({rows}, {cols}) needs {rows * cols} values, got {data.Length}");
        return DeviceWeightFormats.Upload(_accelerator, _stream, data, rows, cols, format) ?? Upload(data);
    }

    public void Download(Tensor source, int offset, Span<float> destination) =>
        G(source).Buffer.View.SubView(offset, destination.Length).CopyToCPU(_stream, destination);

    public void Embed(Tensor table, ReadOnlySpan<int> tokens, int dim, Tensor output)
    {
        if (tokens.Length == 0) return;
        // A bad id would read outside the table on the device, silently or with a device fault.
        int vocabulary = table.Length / dim;
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the table of {vocabulary} rows");
        if (tokens.Length > _tokens.Length)
        {
            _tokens.Dispose();
            _tokens = _accelerator.Allocate1D<int>(Math.Max(tokens.Length, 2 * (int)_tokens.Length));
        }
        _tokens.View.SubView(0, tokens.Length).CopyFromCPU(_stream, tokens);
        var kernels = KernelsFor(table);
        var start = BeginLaunch();
        kernels.Embed(tokens.Length * dim, table, _tokens.View, dim, V(output));
        EndLaunch("Embed", start);
    }

    public void AddRows(Tensor x, Tensor table, int firstRow, int rows, int dim)
    {
        if (rows * dim == 0) return;
        var start = BeginLaunch();
        _addFrom(rows * dim, V(x), V(table), firstRow * dim);
        EndLaunch("AddRows", start);
    }

    public void MatMul(Tensor x, int rows, int inDim, Tensor weight, int outDim, Tensor? bias, Tensor y)
    {
        if (rows * outDim == 0) return;
        ArrayView<float> b = bias is null ? _noBias.View : V(bias);
        int hasBias = bias is null ? 0 : 1;
        var kernels = KernelsFor(weight);
        var start = BeginLaunch();
        if (rows == 1)
        {
            kernels.MatVec(new KernelConfig(outDim, _group, SharedMemoryConfig.RequestDynamic<float>(_group)),
                V(x), weight, b, hasBias, inDim, V(y));
            EndLaunch("MatVec", start);
        }
        else
        {
            int tiles = (rows + _tile - 1) / _tile * ((outDim + _tile - 1) / _tile);
            kernels.Tiled(new KernelConfig(tiles, _tile * _tile, SharedMemoryConfig.RequestDynamic<float>(2 * _tile * (_tile + 1))),
                V(x), weight, b, hasBias, rows, inDim, outDim, _tile, V(y));
            EndLaunch("MatMulTiled", start);
        }
    }

    public void RmsNorm(Tensor x, Tensor weight, int rows, int dim, float eps, Tensor y)
    {
        if (rows == 0) return;
        var start = BeginLaunch();
        _rmsNorm(RowConfig(rows), V(x), V(weight), dim, eps, V(y));
        EndLaunch("RmsNorm", start);
    }

    public void LayerNorm(Tensor x, Tensor weight, Tensor bias, int rows, int dim, float eps, Tensor y)
    {
        if (rows == 0) return;
        var start = BeginLaunch();
        _layerNorm(RowConfig(rows), V(x), V(weight), V(bias), dim, eps, V(y));
        EndLaunch("LayerNorm", start);
    }

    public void Rope(Tensor x, int rows, int heads, int headDim, int startPos, float theta)
    {
        if (rows * headDim == 0) return;
        var frequencies = InverseFrequencies(headDim, theta);
        var start = BeginLaunch();
        _rope(rows * (headDim / 2), V(x), frequencies.View, heads, headDim, startPos);
        EndLaunch("Rope", start);
    }

    // Same-tensor copies must not overlap: the device copy has no defined order.
    public void CopyRows(Tensor source, int sourceRow, Tensor destination, int destinationRow, int rows, int width)
    {
        if (rows * width == 0) return;
        if (ReferenceEquals(source, destination) && sourceRow != destinationRow && Math.Abs(sourceRow - destinationRow) < rows)
            throw new ArgumentException($"rows {sourceRow}..{sourceRow + rows} and {destinationRow}..{destinationRow + rows} of one tensor overlap");
        var from = G(source).Buffer.View.SubView(sourceRow * width, rows * width);
        var to = G(destination).Buffer.View.SubView(destinationRow * width, rows * width);
        var start = BeginLaunch();
        from.CopyTo(_stream, to);
        EndLaunch("CopyRows", start);
    }

    public void Attention(Tensor q, Tensor keys, Tensor values, int rows, int startPos,
        int heads, int kvHeads, int headDim, Tensor output)
    {
        if (rows * heads == 0) return;
        var config = new KernelConfig(rows * heads, _group,
            SharedMemoryConfig.RequestDynamic<float>(AttentionKernel.SharedFloats(_group, headDim)));
        var start = BeginLaunch();
        _attention(config, V(q), V(keys), V(values), V(output), startPos, heads, kvHeads, headDim);
        EndLaunch("Attention", start);
    }

    public void SwiGlu(Tensor gate, Tensor up, int length, Tensor output)
    {
        if (length == 0) return;
        var start = BeginLaunch();
        _swiGlu(length, V(gate), V(up), V(output));
        EndLaunch("SwiGlu", start);
    }

    public void Gelu(Tensor x, int length)
    {
        if (length == 0) return;
        var start = BeginLaunch();
        _gelu(length, V(x));
        EndLaunch("Gelu", start);
    }

    public void Add(Tensor x, Tensor y, int length)
    {
        if (length == 0) return;
        var start = BeginLaunch();
        _addFrom(length, V(x), V(y), 0);
        EndLaunch("Add", start);
    }

    public void Softmax(Tensor x, int rows, int cols)
    {
        if (rows == 0) return;
        var start = BeginLaunch();
        _softmax(RowConfig(rows), V(x), cols);
        EndLaunch("Softmax", start);
    }

    /// <summary>Index of the largest of x[offset .. offset + length), first on ties; reads back one int.</summary>
    public int Argmax(Tensor x, int offset, int length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "argmax of an empty row");
        var start = BeginLaunch();
        _argmax(new KernelConfig(1, _group, SharedMemoryConfig.RequestDynamic<uint>(2 * _group)), V(x), offset, length, _argmaxResult.View);
        EndLaunch("Argmax", start);
        Span<int> result = stackalloc int[1];
        _argmaxResult.View.CopyToCPU(_stream, result);
        return result[0];
    }

    /// <summary>Waits for every queued kernel; for host-side timing.</summary>
    public void Synchronize() => _stream.Synchronize();

    public void Dispose()
    {
        _stream.Synchronize();
        _noBias.Dispose();
        _argmaxResult.Dispose();
        _tokens.Dispose();
        foreach (var buffer in _inverseFrequencies.Values) buffer.Dispose();
        _launchStart?.Dispose();
        _owned?.Dispose();
    }

    // The weight kernels for the tensor's format, compiled at its first use.
    private WeightKernels KernelsFor(Tensor weight)
    {
        var format = weight switch
        {
            GpuTensor => WeightFormat.F32,
            IGpuMatrix m => m.Format,
            _ => throw new ArgumentException($"a {weight.GetType().Name} is not a weight matrix of this ILGPU backend"),
        };
        if (!_weightKernels.TryGetValue(format, out var kernels))
            _weightKernels[format] = kernels = DeviceWeightFormats.Kernels(_accelerator, format);
        return kernels;
    }

    private KernelConfig RowConfig(int rows) => new(rows, _group, SharedMemoryConfig.RequestDynamic<float>(_group));

    // f32 like Hugging Face's inv_freq buffer; computed once per (headDim, theta).
    private MemoryBuffer1D<float, Stride1D.Dense> InverseFrequencies(int headDim, float theta)
    {
        if (!_inverseFrequencies.TryGetValue((headDim, theta), out var buffer))
        {
            var f = new float[headDim / 2];
            for (int i = 0; i < f.Length; i++) f[i] = (float)Math.Pow(theta, -2.0 * i / headDim);
            buffer = _accelerator.Allocate1D(f);
            _inverseFrequencies[(headDim, theta)] = buffer;
        }
        return buffer;
    }

    // Profiling only: drain the queue so the launch is timed alone. Internal for the kernels kept
    // outside this class (DeviceVerifier) to be timed the same way.
    internal TimeSpan BeginLaunch()
    {
        if (_profiler is null) return default;
        _stream.Synchronize();
        if (_deviceTimers) _launchStart = _stream.AddProfilingMarker();
        return _profiler.Now;
    }

    internal void EndLaunch(string name, TimeSpan start)
    {
        if (_profiler is null) return;
        TimeSpan duration;
        if (_deviceTimers)
        {
            using var end = _stream.AddProfilingMarker();
            duration = end - _launchStart!;
            _launchStart!.Dispose();
            _launchStart = null;
        }
        else
        {
            _stream.Synchronize();
            duration = _profiler.Now - start;
        }
        _profiler.Record(name, start, duration, TraceThread);
    }

    private static int FloorPowerOfTwo(int n) => n < 1 ? 1 : 1 << (31 - int.LeadingZeroCount(n));

    private static GpuTensor G(Tensor t) => t as GpuTensor ?? throw new ArgumentException(t is IGpuMatrix m
        ? $"a {m.Format} weight matrix is read only by MatMul and Embed"
        : $"a {t.GetType().Name} is not a tensor of this ILGPU backend");

    private static ArrayView<float> V(Tensor t) => G(t).View;
}
