using DistillSpec.Backends;

namespace DistillSpec.Models;

/// <summary>
/// The one transformer definition: Llama-family (RMSNorm, RoPE, GQA, SwiGLU) and GPT-2
/// (LayerNorm, learned positions, GELU), written once against IBackend.
/// </summary>
public sealed class Transformer : IDisposable
{
    /// <summary>Positions processed per backend pass; longer inputs are split into chunks.</summary>
    public const int ChunkRows = 64;

    private readonly IBackend _backend;
    private readonly DeviceWeights _w;
    private readonly Activations _a;

    /// <param name="format">storage of the weight matrices (embedding, projections, MLP, head); norms and biases stay f32</param>
    public Transformer(ModelConfig config, ModelWeights weights, IBackend backend, WeightFormat format = WeightFormat.F32)
        : this(config, backend, format, () => new DeviceWeights(MadeFor(weights, config), i => weights.Layers[i], backend, format, adopt: false))
    {
    }

    private static ModelWeights MadeFor(ModelWeights weights, ModelConfig config) =>
        ReferenceEquals(weights.Config, config) || weights.Config == config
            ? weights
            : throw new ArgumentException("weights were made for a different config", nameof(weights));

    /// <summary>
    /// Builds the model layer by layer from a checkpoint, so loading never holds an f32 copy of the
    /// whole model beside the backend's: f32 layers are read into new arrays the backend keeps as
    /// they are (AdoptMatrix); layers the backend converts (BF16, Q8_0) are read into one scratch
    /// layer reused for all of them.
    /// </summary>
    internal Transformer(WeightStream weights, IBackend backend, WeightFormat format = WeightFormat.F32)
        : this(weights.Config, backend, format, () => format == WeightFormat.F32
            ? new DeviceWeights(weights.Globals, i => weights.ReadLayer(i), backend, format, adopt: true, weights.TakeStored)
            : new DeviceWeights(weights.Globals, ScratchLayers(weights), backend, format, adopt: false, weights.TakeStored))
    {
    }

    private static Func<int, LayerWeights> ScratchLayers(WeightStream weights)
    {
        var scratch = LayerWeights.Allocate(weights.Config);
        return i => weights.ReadLayer(i, scratch);
    }

    private Transformer(ModelConfig config, IBackend backend, WeightFormat format, Func<DeviceWeights> upload)
    {
        if (!backend.Supports(format))
            throw new ArgumentException($"backend {backend.Name} does not store {format} weights; use f32 or another device", nameof(format));
        Config = config;
        _backend = backend;
        WeightFormat = format;
        _w = upload();
        _a = new Activations(config, backend, ChunkRows);
    }

    public ModelConfig Config { get; }

    public IBackend Backend => _backend;

    public WeightFormat WeightFormat { get; }

    /// <summary>The formats the matrices are held in: WeightFormat, and any a checkpoint's quantized matrices were kept in.</summary>
    internal IReadOnlyList<WeightFormat> MatrixFormats => _w.Formats;

    public int VocabSize => Config.VocabSize;

    public KvCache CreateCache(int? capacity = null) =>
        new(_backend, Config.Layers, Math.Min(capacity ?? Config.MaxPositions, Config.MaxPositions), Config.KvDim);

    /// <summary>
    /// Runs tokens at positions [startPos, startPos + k) and appends their keys and values to the
    /// cache (dropping anything cached at or after startPos). logits is (k, vocab) for every
    /// position, or (vocab) for the last position only, which skips the head for the others.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, int startPos, KvCache cache, Span<float> logits)
    {
        int k = tokens.Length, v = Config.VocabSize;
        if (k == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        bool all = logits.Length == k * v;
        if (!all && logits.Length != v)
            throw new ArgumentException($"logits must hold {k} x {v} (every position) or {v} (last position) floats, got {logits.Length}", nameof(logits));
        Begin(tokens, startPos, cache);
        for (int done = 0; done < k; done += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, k - done);
            bool last = done + rows == k;
            if (!all && !last)
            {
                RunChunk(tokens.Slice(done, rows), startPos + done, cache, logitRows: 0);
                continue;
            }
            int logitRows = all ? rows : 1;
            RunChunk(tokens.Slice(done, rows), startPos + done, cache, logitRows);
            _backend.Download(_a.Logits, 0, logits.Slice(all ? done * v : 0, logitRows * v));
        }
    }

    /// <summary>
    /// As Forward, but the logits of every position, (k, vocab), stay on the backend in the
    /// returned tensor, for a consumer on the same device (the fused verifier): nothing is
    /// downloaded. The tensor belongs to the model and the next forward pass overwrites it;
    /// k is at most ChunkRows.
    /// </summary>
    public Tensor Forward(ReadOnlySpan<int> tokens, int startPos, KvCache cache)
    {
        int k = tokens.Length;
        if (k > ChunkRows) throw new ArgumentException($"at most {ChunkRows} positions keep their logits on the backend, got {k}", nameof(tokens));
        Begin(tokens, startPos, cache);
        RunChunk(tokens, startPos, cache, logitRows: k);
        return _a.Logits;
    }

    /// <summary>
    /// As Forward with logits of the last position only, for any number of tokens, but the logits,
    /// (vocab), stay on the backend in row 0 of the returned tensor, for a device sampler: nothing
    /// is downloaded. The tensor belongs to the model and the next forward pass overwrites it.
    /// </summary>
    public Tensor ForwardLast(ReadOnlySpan<int> tokens, int startPos, KvCache cache)
    {
        Begin(tokens, startPos, cache);
        for (int done = 0; done < tokens.Length; done += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, tokens.Length - done);
            RunChunk(tokens.Slice(done, rows), startPos + done, cache, logitRows: done + rows == tokens.Length ? 1 : 0);
        }
        return _a.Logits;
    }

    // Checks the tokens and the room in the cache, then drops whatever was cached at or after startPos.
    private void Begin(ReadOnlySpan<int> tokens, int startPos, KvCache cache)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run", nameof(tokens));
        int v = Config.VocabSize;
        foreach (int t in tokens)
            if ((uint)t >= (uint)v) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the vocabulary of {v}");
        cache.EnsureRoom(startPos, tokens.Length);
        cache.SetLength(startPos);
    }

    // Only the last logitRows positions go through the final norm and output head.
    private void RunChunk(ReadOnlySpan<int> tokens, int start, KvCache cache, int logitRows)
    {
        var c = Config;
        int rows = tokens.Length, d = c.HiddenSize, f = c.IntermediateSize;
        bool gpt2 = c.Architecture == Architecture.Gpt2;
        var b = _backend;
        var a = _a;

        b.Embed(_w.Embedding, tokens, d, a.X);
        if (gpt2) b.AddRows(a.X, _w.Positions!, start, rows, d);

        for (int i = 0; i < c.Layers; i++)
        {
            var l = _w.Layers[i];
            Norm(a.X, l.AttentionNorm, l.AttentionNormBias, rows, a.H);
            b.MatMul(a.H, rows, d, l.Query, c.QDim, l.QueryBias, a.Q);
            b.MatMul(a.H, rows, d, l.Key, c.KvDim, l.KeyBias, a.K);
            b.MatMul(a.H, rows, d, l.Value, c.KvDim, l.ValueBias, a.V);
            if (!gpt2)
            {
                b.Rope(a.Q, rows, c.Heads, c.HeadDim, start, c.RopeTheta);
                b.Rope(a.K, rows, c.KvHeads, c.HeadDim, start, c.RopeTheta);
            }
            b.CopyRows(a.K, 0, cache.Keys(i), start, rows, c.KvDim);
            b.CopyRows(a.V, 0, cache.Values(i), start, rows, c.KvDim);
            b.Attention(a.Q, cache.Keys(i), cache.Values(i), rows, start, c.Heads, c.KvHeads, c.HeadDim, a.Attended);
            b.MatMul(a.Attended, rows, c.QDim, l.Output, d, l.OutputBias, a.H);
            b.Add(a.X, a.H, rows * d);

            Norm(a.X, l.MlpNorm, l.MlpNormBias, rows, a.H);
            b.MatMul(a.H, rows, d, l.Up, f, l.UpBias, a.Up);
            if (gpt2)
                b.Gelu(a.Up, rows * f);
            else
            {
                b.MatMul(a.H, rows, d, l.Gate!, f, l.GateBias, a.Gate);
                b.SwiGlu(a.Gate, a.Up, rows * f, a.Up);
            }
            b.MatMul(a.Up, rows, f, l.Down, d, l.DownBias, a.H);
            b.Add(a.X, a.H, rows * d);
        }

        cache.SetLength(start + rows);
        if (logitRows == 0) return;
        if (logitRows < rows) b.CopyRows(a.X, rows - logitRows, a.X, 0, logitRows, d);
        Norm(a.X, _w.FinalNorm, _w.FinalNormBias, logitRows, a.H);
        b.MatMul(a.H, logitRows, d, _w.OutputProjection, c.VocabSize, null, a.Logits);
    }

    private void Norm(Tensor x, Tensor weight, Tensor? bias, int rows, Tensor y)
    {
        if (bias is null) _backend.RmsNorm(x, weight, rows, Config.HiddenSize, Config.NormEps, y);
        else _backend.LayerNorm(x, weight, bias, rows, Config.HiddenSize, Config.NormEps, y);
    }

    public void Dispose()
    {
        _w.Dispose();
        _a.Dispose();
    }

    /// <summary>Weights uploaded once to the backend, mirroring ModelWeights.</summary>
    private sealed class DeviceWeights : IDisposable
    {
        private readonly List<Tensor> _all = [];

        /// <param name="w">the weights outside the layers (its Layers are not read)</param>
        /// <param name="layer">layer i's weights, asked for once each, in order</param>
        /// <param name="adopt">whether the arrays are the model's own to hand over (AdoptMatrix) rather than to copy</param>
        /// <param name="stored">a matrix the checkpoint hands over as stored (its array then holds nothing), or null</param>
        public DeviceWeights(ModelWeights w, Func<int, LayerWeights> layer, IBackend backend, WeightFormat format, bool adopt,
            Func<float[], WeightStream.StoredMatrix?>? stored = null)
        {
            Tensor Keep(Tensor t) { _all.Add(t); return t; }
            Tensor Up(float[] data) => Keep(adopt ? backend.AdoptMatrix(data, 1, data.Length, WeightFormat.F32) : backend.Upload(data));
            Tensor? Maybe(float[]? data) => data is null ? null : Up(data);
            // Matrices are (out, in) with in = the row length that quantisation blocks run along.
            var formats = new SortedSet<WeightFormat>();
            Tensor Matrix(float[] data, int cols)
            {
                var m = stored?.Invoke(data);
                formats.Add(m?.Format ?? WeightFormats.ForRow(format, cols));
                return Keep(m is not null ? backend.AdoptStored(m.Format, m.Rows, m.Cols, m.Bytes)
                    : adopt ? backend.AdoptMatrix(data, data.Length / cols, cols, format) : backend.UploadMatrix(data, data.Length / cols, cols, format));
            }
            Tensor? MaybeMatrix(float[]? data, int cols) => data is null ? null : Matrix(data, cols);
            var c = w.Config;
            int d = c.HiddenSize, f = c.IntermediateSize;
            Embedding = Matrix(w.Embedding, d);
            Positions = Maybe(w.Positions);
            OutputProjection = w.LmHead is null ? Embedding : Matrix(w.LmHead, d);
            FinalNorm = Up(w.FinalNorm);
            FinalNormBias = Maybe(w.FinalNormBias);
            Layers = Enumerable.Range(0, c.Layers).Select(layer).Select(l => new Layer(
                Up(l.AttentionNorm), Maybe(l.AttentionNormBias),
                Matrix(l.Query, d), Maybe(l.QueryBias), Matrix(l.Key, d), Maybe(l.KeyBias), Matrix(l.Value, d), Maybe(l.ValueBias),
                Matrix(l.Output, c.QDim), Maybe(l.OutputBias), Up(l.MlpNorm), Maybe(l.MlpNormBias),
                MaybeMatrix(l.Gate, d), Maybe(l.GateBias), Matrix(l.Up, d), Maybe(l.UpBias), Matrix(l.Down, f), Maybe(l.DownBias))).ToArray();
            Formats = [.. formats];
        }

        public Tensor Embedding { get; }
        public IReadOnlyList<WeightFormat> Formats { get; }
        public Tensor? Positions { get; }
        public Tensor OutputProjection { get; }
        public Tensor FinalNorm { get; }
        public Tensor? FinalNormBias { get; }
        public Layer[] Layers { get; }

        public void Dispose() { foreach (var t in _all) t.Dispose(); }
    }

    private sealed record Layer(
        Tensor AttentionNorm, Tensor? AttentionNormBias,
        Tensor Query, Tensor? QueryBias, Tensor Key, Tensor? KeyBias, Tensor Value, Tensor? ValueBias,
        Tensor Output, Tensor? OutputBias, Tensor MlpNorm, Tensor? MlpNormBias,
        Tensor? Gate, Tensor? GateBias, Tensor Up, Tensor? UpBias, Tensor Down, Tensor? DownBias);

    /// <summary>Scratch buffers sized for one chunk, allocated once per model.</summary>
    private sealed class Activations : IDisposable
    {
        public Activations(ModelConfig c, IBackend b, int rows)
        {
            X = b.Allocate(rows * c.HiddenSize);
            H = b.Allocate(rows * c.HiddenSize);
            Q = b.Allocate(rows * c.QDim);
            K = b.Allocate(rows * c.KvDim);
            V = b.Allocate(rows * c.KvDim);
            Attended = b.Allocate(rows * c.QDim);
            Gate = b.Allocate(rows * c.IntermediateSize);
            Up = b.Allocate(rows * c.IntermediateSize);
            Logits = b.Allocate(rows * c.VocabSize);
        }

        public Tensor X { get; }
        public Tensor H { get; }
        public Tensor Q { get; }
        public Tensor K { get; }
        public Tensor V { get; }
        public Tensor Attended { get; }
        public Tensor Gate { get; }
        public Tensor Up { get; }
        public Tensor Logits { get; }

        public void Dispose()
        {
            foreach (var t in new[] { X, H, Q, K, V, Attended, Gate, Up, Logits }) t.Dispose();
        }
    }
}
