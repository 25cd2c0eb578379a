using System.Numerics.Tensors;

namespace DistillSpec.Backends;

/// <summary>
/// CPU backend: TensorPrimitives (Vector512/Vector256) inner loops spread over a persistent
/// worker pool. Not thread-safe: one model, one caller.
/// </summary>
public sealed class SimdBackend : HostBackend, IBackend
{
    private readonly WorkerPool _pool;
    private readonly MatMulJob _matMul = new();
    private readonly AttentionJob _attention;
    private readonly RowsAttentionJob _rowsAttention;
    private readonly NormJob _norm = new();
    private readonly Dictionary<(int, float), RopeTable> _ropeTables = new();

    public SimdBackend(int threads = 0)
    {
        _pool = new WorkerPool(threads > 0 ? threads : Environment.ProcessorCount);
        _attention = new AttentionJob(_pool.Threads);
        _rowsAttention = new RowsAttentionJob(_pool.Threads);
    }

    public string Name => $"cpu-simd ({Threads} threads)";

    public int Threads => _pool.Threads;

    /// <summary>The integer dot products block-format MatMuls run on: the fastest this CPU has, unless a test or bench picks one.</summary>
    internal IntDotPath BlockPath
    {
        get => _matMul.BlockPath;
        set => _matMul.BlockPath = BlockGemm.IsSupported(value) ? value : throw new PlatformNotSupportedException($"this CPU cannot run the {value} block kernels");
    }

    public void AddRows(Tensor x, Tensor table, int firstRow, int rows, int dim)
    {
        var xs = D(x).AsSpan(0, rows * dim);
        TensorPrimitives.Add(xs, D(table).AsSpan(firstRow * dim, rows * dim), xs);
    }

    public void MatMul(Tensor x, int rows, int inDim, Tensor weight, int outDim, Tensor? bias, Tensor y)
    {
        _matMul.Set(D(x), rows, inDim, weight, outDim, bias is null ? null : D(bias), D(y));
        // ~16 KB of weights per chunk at least, so tiny matrices stay on one thread.
        _pool.For(outDim, _matMul, Math.Max(1, 4096 / inDim), balance: true, align: 8);
    }

    public void RmsNorm(Tensor x, Tensor weight, int rows, int dim, float eps, Tensor y)
    {
        _norm.Set(D(x), D(weight), null, dim, eps, D(y));
        _pool.For(rows, _norm, Math.Max(1, 32768 / dim), balance: true);
    }

    public void LayerNorm(Tensor x, Tensor weight, Tensor bias, int rows, int dim, float eps, Tensor y)
    {
        _norm.Set(D(x), D(weight), D(bias), dim, eps, D(y));
        _pool.For(rows, _norm, Math.Max(1, 32768 / dim), balance: true);
    }

    public void Rope(Tensor x, int rows, int heads, int headDim, int startPos, float theta)
    {
        float[] xs = D(x);
        var table = RopeAngles(headDim, theta, startPos + rows);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++)
        {
            var cos = table.Cos.AsSpan((startPos + r) * half, half);
            var sin = table.Sin.AsSpan((startPos + r) * half, half);
            for (int h = 0; h < heads; h++)
            {
                var x0 = xs.AsSpan((r * heads + h) * headDim, half);
                var x1 = xs.AsSpan((r * heads + h) * headDim + half, half);
                for (int i = 0; i < half; i++)
                {
                    float a = x0[i], b = x1[i];
                    x0[i] = a * cos[i] - b * sin[i];
                    x1[i] = b * cos[i] + a * sin[i];
                }
            }
        }
    }

    public void CopyRows(Tensor source, int sourceRow, Tensor destination, int destinationRow, int rows, int width) =>
        D(source).AsSpan(sourceRow * width, rows * width).CopyTo(D(destination).AsSpan(destinationRow * width));

    public void Attention(Tensor q, Tensor keys, Tensor values, int rows, int startPos,
        int heads, int kvHeads, int headDim, Tensor output)
    {
        if (rows == 1 || headDim % 16 != 0 || !System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            _attention.Set(D(q), D(keys), D(values), startPos, heads, kvHeads, headDim, D(output));
            _pool.For(rows * heads, _attention, balance: true);
            return;
        }
        _rowsAttention.Set(D(q), D(keys), D(values), rows, startPos, heads, kvHeads, headDim, D(output));
        _pool.For(kvHeads * _rowsAttention.Chunks, _rowsAttention, balance: true);
    }

    // Chunked through a stack scratch so output may alias gate or up.
    public void SwiGlu(Tensor gate, Tensor up, int length, Tensor output)
    {
        Span<float> scratch = stackalloc float[512];
        float[] g = D(gate), u = D(up), o = D(output);
        for (int start = 0; start < length; start += scratch.Length)
        {
            int n = Math.Min(scratch.Length, length - start);
            var t = scratch[..n];
            var gs = new ReadOnlySpan<float>(g, start, n);
            TensorPrimitives.Sigmoid(gs, t);
            TensorPrimitives.Multiply(t, gs, t);
            TensorPrimitives.Multiply(t, new ReadOnlySpan<float>(u, start, n), new Span<float>(o, start, n));
        }
    }

    public void Gelu(Tensor x, int length)
    {
        const float c = 0.7978845608f; // sqrt(2 / pi)
        Span<float> inner = stackalloc float[512];
        var xs = D(x).AsSpan(0, length);
        for (int start = 0; start < length; start += inner.Length)
        {
            var chunk = xs.Slice(start, Math.Min(inner.Length, length - start));
            var t = inner[..chunk.Length];
            TensorPrimitives.Multiply(chunk, chunk, t);
            TensorPrimitives.Multiply(t, 0.044715f * c, t);
            TensorPrimitives.Add(t, c, t);
            TensorPrimitives.Multiply(t, chunk, t);
            TensorPrimitives.Tanh(t, t);
            TensorPrimitives.AddMultiply(t, 1f, chunk, t);
            TensorPrimitives.Multiply(t, 0.5f, chunk);
        }
    }

    public void Add(Tensor x, Tensor y, int length)
    {
        var xs = D(x).AsSpan(0, length);
        TensorPrimitives.Add(xs, D(y).AsSpan(0, length), xs);
    }

    public void Softmax(Tensor x, int rows, int cols)
    {
        float[] xs = D(x);
        for (int r = 0; r < rows; r++)
        {
            var row = xs.AsSpan(r * cols, cols);
            Numerics.Softmax.Stable(row, row);
        }
    }

    public void Dispose() => _pool.Dispose();

    // cos and sin of every position's angles so far, grown by doubling: a verification pass of a
    // few rows would otherwise spend more on Math.Cos/Sin than on the rotation.
    private RopeTable RopeAngles(int headDim, float theta, int positions)
    {
        if (!_ropeTables.TryGetValue((headDim, theta), out var table) || table.Positions < positions)
            _ropeTables[(headDim, theta)] = table = new RopeTable(headDim, theta, Math.Max(positions, 2 * (table?.Positions ?? 64)));
        return table;
    }

    private sealed class RopeTable
    {
        public RopeTable(int headDim, float theta, int positions)
        {
            int half = headDim / 2;
            var frequencies = new float[half];
            for (int i = 0; i < half; i++) frequencies[i] = (float)Math.Pow(theta, -2.0 * i / headDim);
            (Positions, Cos, Sin) = (positions, new float[positions * half], new float[positions * half]);
            for (int p = 0; p < positions; p++)
                for (int i = 0; i < half; i++)
                {
                    double angle = p * (double)frequencies[i];
                    Cos[p * half + i] = (float)Math.Cos(angle);
                    Sin[p * half + i] = (float)Math.Sin(angle);
                }
        }

        public int Positions { get; }
        public float[] Cos { get; }
        public float[] Sin { get; }
    }

    private sealed class MatMulJob : RangeJob
    {
        private float[] _x = [], _y = [];
        private Tensor? _w;
        private float[]? _bias;
        private int _rows, _inDim, _outDim;

        private readonly ActivationBlocks _activations = new();

        public IntDotPath BlockPath { get; set; } = BlockGemm.Best;

        // Block-format weights multiply 8-bit activations: x is rounded once here, before the workers start.
        public unsafe void Set(float[] x, int rows, int inDim, Tensor w, int outDim, float[]? bias, float[] y)
        {
            (_x, _rows, _inDim, _w, _outDim, _bias, _y) = (x, rows, inDim, w, outDim, bias, y);
            WeightFormat? blocks = w switch { BlockTensor b => b.Format, InterleavedBlocks i => i.Format, _ => null };
            if (blocks is { } format)
                fixed (float* xs = x) _activations.Quantize(xs, rows, inDim, BlockFormats.BlockWeights(format) == 256 ? 256 : 32);
        }

        public override unsafe void Run(int start, int end, int worker)
        {
            fixed (float* x = _x, y = _y, b = _bias)
            {
                float* bias = _bias is null ? null : b;
                switch (_w)
                {
                    case CpuTensor f:
                        fixed (float* w = f.Data) GemmKernel.Run(x, _rows, _inDim, new F32Rows(w, _inDim), start, end, bias, y, _outDim);
                        break;
                    case Bf16Tensor h:
                        fixed (ushort* w = h.Bits) GemmKernel.Run(x, _rows, _inDim, new Bf16Rows(w, _inDim), start, end, bias, y, _outDim);
                        break;
                    case BlockTensor blocks:
                        fixed (byte* w = blocks.Blocks) BlockGemm.Run(BlockPath, blocks.Format, _activations, w, blocks.RowBytes, start, end, bias, y, _outDim);
                        break;
                    case InterleavedBlocks blocks:
                        fixed (byte* w = blocks.Bytes) InterleavedGemm.Run(_activations, blocks, w, start, end, bias, y, _outDim);
                        break;
                    default:
                        throw new ArgumentException($"weights of type {_w?.GetType().Name} are not host memory");
                }
            }
        }
    }

    private sealed class NormJob : RangeJob
    {
        private float[] _x = [], _w = [], _y = [];
        private float[]? _bias;
        private int _dim;
        private float _eps;

        public void Set(float[] x, float[] w, float[]? bias, int dim, float eps, float[] y) =>
            (_x, _w, _bias, _dim, _eps, _y) = (x, w, bias, dim, eps, y);

        public override void Run(int start, int end, int worker)
        {
            for (int r = start; r < end; r++)
            {
                var x = new ReadOnlySpan<float>(_x, r * _dim, _dim);
                var y = new Span<float>(_y, r * _dim, _dim);
                if (_bias is null)
                {
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / _dim + _eps);
                    TensorPrimitives.Multiply(x, inv, y);
                    TensorPrimitives.Multiply(y, _w, y);
                }
                else
                {
                    float mean = TensorPrimitives.Sum(x) / _dim;
                    TensorPrimitives.Subtract(x, mean, y);
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(y) / _dim + _eps);
                    TensorPrimitives.Multiply(y, inv, y);
                    TensorPrimitives.FusedMultiplyAdd(y, _w, _bias, y);
                }
            }
        }
    }

    private sealed class AttentionJob(int workers) : RangeJob
    {
        private readonly float[][] _scores = new float[workers][];
        private float[] _q = [], _k = [], _v = [], _out = [];
        private int _startPos, _heads, _kvHeads, _headDim;

        public void Set(float[] q, float[] k, float[] v, int startPos, int heads, int kvHeads, int headDim, float[] output) =>
            (_q, _k, _v, _startPos, _heads, _kvHeads, _headDim, _out) = (q, k, v, startPos, heads, kvHeads, headDim, output);

        // Items are (row, head) pairs; a worker takes its heads of each row together, with a
        // score buffer of its own sized to the cache.
        public override unsafe void Run(int start, int end, int worker)
        {
            int kvDim = _kvHeads * _headDim, group = _heads / _kvHeads;
            float scale = 1f / MathF.Sqrt(_headDim);
            int most = (_startPos + end / _heads + 1) * Math.Min(_heads, end - start);
            if (_scores[worker] is null || _scores[worker].Length < most)
                _scores[worker] = new float[Math.Max(most, 2048) * 2];
            fixed (float* q = _q, k = _k, v = _v, output = _out, scores = _scores[worker])
                for (int item = start; item < end;)
                {
                    int r = item / _heads, first = item % _heads, last = Math.Min(_heads, first + end - item);
                    long row = (long)r * _heads * _headDim;
                    AttentionKernel.Heads(q + row, k, v, first, last, group, _headDim, kvDim, _startPos + r + 1, scale, scores, output + row);
                    item += last - first;
                }
        }
    }

    // Items are (KV head, chunk of query rows): each key and value row is read once per chunk
    // for all of its query heads and rows.
    private sealed class RowsAttentionJob(int workers) : RangeJob
    {
        private const int RowsPerChunk = 8;
        private readonly float[][] _scores = new float[workers][];
        private readonly nint[][] _offsets = new nint[workers][];
        private float[] _q = [], _k = [], _v = [], _out = [];
        private int _rows, _startPos, _heads, _kvHeads, _headDim;

        public int Chunks => (_rows + RowsPerChunk - 1) / RowsPerChunk;

        public void Set(float[] q, float[] k, float[] v, int rows, int startPos, int heads, int kvHeads, int headDim, float[] output) =>
            (_q, _k, _v, _rows, _startPos, _heads, _kvHeads, _headDim, _out) = (q, k, v, rows, startPos, heads, kvHeads, headDim, output);

        public override unsafe void Run(int start, int end, int worker)
        {
            int group = _heads / _kvHeads, queries = RowsPerChunk * group, most = queries * (_startPos + _rows);
            if (_scores[worker] is null || _scores[worker].Length < most)
                _scores[worker] = new float[Math.Max(most, 2048) * 2];
            if (_offsets[worker] is null || _offsets[worker].Length < queries) _offsets[worker] = new nint[queries];
            float scale = 1f / MathF.Sqrt(_headDim);
            fixed (float* q = _q, k = _k, v = _v, output = _out, scores = _scores[worker])
            fixed (nint* at = _offsets[worker])
                for (int item = start; item < end; item++)
                {
                    int g = item % _kvHeads, first = item / _kvHeads * RowsPerChunk;
                    AttentionKernel.Rows(q, k, v, g, first, Math.Min(_rows, first + RowsPerChunk), _heads, group, _headDim,
                        _kvHeads * _headDim, _startPos, scale, at, scores, output);
                }
        }
    }
}
