using DistillSpec.Models.Architectures;

namespace DistillSpec.Models;

/// <summary>
/// A checkpoint (safetensors directory or GGUF file) read one layer at a time: every tensor the
/// config implies is checked for presence and shape before any is read, the weights outside the
/// layers are read up front, and each layer when asked for. A model built layer by layer never
/// holds an f32 copy of all its layers at once. Owns the open checkpoint until disposed.
/// </summary>
internal sealed class WeightStream : IDisposable
{
    /// <summary>What a checkpoint format offers: tensor shapes by name (null when absent), reads as f32, and its own check of unused tensors.</summary>
    internal sealed record Checkpoint(
        string Path, string ConfigSource, long StoredElements,
        Func<string, long[]?> Shape, Action<string, float[]> Read, Func<string, string> StoredName,
        Action<IReadOnlySet<string>> CheckUnused, IDisposable Owner)
    {
        /// <summary>The format a tensor's bytes are in when a backend can keep them as they are (ggml blocks, BF16), else null.</summary>
        public Func<string, Backends.WeightFormat?> StoredFormat { get; init; } = _ => null;

        /// <summary>Copies rows [first, first + destination's rows) of a stored matrix, as stored bytes, into destination.</summary>
        public ReadStoredRows ReadRows { get; init; } = (name, _, _, _) => throw new NotSupportedException($"tensor '{name}' cannot be read as stored");
    }

    internal delegate void ReadStoredRows(string name, long first, int rowBytes, Span<byte> destination);

    /// <summary>A matrix taken in its stored format: rows x cols weights as RowBytes-long rows of Bytes.</summary>
    internal sealed record StoredMatrix(Backends.WeightFormat Format, int Rows, int Cols, byte[] Bytes);

    private readonly Checkpoint _file;
    private readonly ModelArchitecture _architecture;
    private readonly bool _hf, _scan;
    private readonly Func<Backends.WeightFormat, bool> _keep;
    // Matrices left unread as f32 because they are taken as stored, by the array they would have filled:
    // the embedding and head for the whole load, a layer's until the next layer is read.
    private readonly Dictionary<float[], StoredMatrix> _storedGlobals = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<float[], StoredMatrix> _storedLayer = new(ReferenceEqualityComparer.Instance);
    private LayerWeights? _layer;

    private WeightStream(Checkpoint file, ModelConfig config, bool hf, ModelLoadOptions options, Func<Backends.WeightFormat, bool>? keep)
    {
        _file = file;
        _architecture = ModelArchitectures.Of(config);
        _hf = hf;
        _scan = options.ScanWeights;
        _keep = keep ?? (_ => false);
        EnsureEnoughStored(config, file.StoredElements, file.Path, file.ConfigSource);
        var template = LayerWeights.Allocate(config);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var globals = ModelWeights.AllocateGlobals(config);
        foreach (var t in GlobalTensors(globals).Concat(Enumerable.Range(0, config.Layers).SelectMany(i => LayerTensors(config, template, i))))
            used.Add(Check(t));
        file.CheckUnused(used);
        Globals = globals;
        foreach (var t in GlobalTensors(globals)) Read(t);
    }

    /// <summary>Opens a checkpoint; keep says which stored formats its matrices are taken in as they are (bytes copied once, never widened).</summary>
    public static WeightStream Open(string path, ModelConfig config, ModelLoadOptions? options = null, Func<Backends.WeightFormat, bool>? keep = null) =>
        Formats.Gguf.GgufModel.IsGgufFile(path)
            ? Formats.Gguf.GgufModel.OpenStream(Formats.Gguf.GgufFile.Open(path), config, options, keep)
            : HfCheckpoint.OpenStream(path, config, options, keep);

    internal static WeightStream Create(Checkpoint file, ModelConfig config, bool hf, ModelLoadOptions? options, Func<Backends.WeightFormat, bool>? keep)
    {
        try
        {
            return new WeightStream(file, config, hf, options ?? ModelLoadOptions.Default, keep);
        }
        catch
        {
            file.Owner.Dispose();
            throw;
        }
    }

    public ModelConfig Config => Globals.Config;

    /// <summary>The weights outside the layers; its Layers is empty.</summary>
    public ModelWeights Globals { get; }

    /// <summary>
    /// Layer i, read now into new arrays the caller owns, or into the arrays of into (overwriting all of them).
    /// Matrices taken as stored are left unread: TakeStored hands them out until the next ReadLayer.
    /// </summary>
    public LayerWeights ReadLayer(int i, LayerWeights? into = null)
    {
        var layer = into ?? LayerWeights.Allocate(Config);
        _storedLayer.Clear();
        _layer = layer;
        foreach (var t in LayerTensors(Config, layer, i)) Read(t);
        _layer = null;
        return layer;
    }

    /// <summary>The stored form of the matrix that would have filled ours, when it was taken as stored (its f32 array then holds nothing).</summary>
    public StoredMatrix? TakeStored(float[] ours) => _storedLayer.GetValueOrDefault(ours) ?? _storedGlobals.GetValueOrDefault(ours);

    /// <summary>Every layer read: the whole model as f32 arrays.</summary>
    public ModelWeights ReadAll() => ModelWeights.WithLayers(Globals, Enumerable.Range(0, Config.Layers).Select(i => ReadLayer(i)).ToArray());

    public void Dispose() => _file.Owner.Dispose();

    private IEnumerable<StoredTensor> GlobalTensors(ModelWeights w) => _hf ? _architecture.HfGlobalTensors(w) : _architecture.GgufGlobalTensors(w);

    private IEnumerable<StoredTensor> LayerTensors(ModelConfig c, LayerWeights l, int i) =>
        _hf ? _architecture.HfLayerTensors(c, l, i) : _architecture.GgufLayerTensors(c, l, i);

    private string Check(StoredTensor t)
    {
        string name = _file.StoredName(t.Name);
        long[] shape = _file.Shape(name)
            ?? throw new ModelFormatException(_file.Path, $"tensor '{name}' is missing; expected shape [{string.Join(", ", t.Shape)}]");
        if (!shape.SequenceEqual(t.Shape.Select(d => (long)d)))
            throw new ModelFormatException(_file.Path,
                $"tensor '{name}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", t.Shape)}] from {_file.ConfigSource}");
        return name;
    }

    // Same-layout tensors are read straight into their array; fused, transposed or permuted ones through one buffer each.
    private void Read(StoredTensor t)
    {
        string name = _file.StoredName(t.Name);
        // Only the weight matrices multiply in their stored format; vectors and learned positions are read as f32.
        if (t.Rows is { } rows && rows.All(r => IsMatrix(r.Ours)) && _file.StoredFormat(name) is { } format && _keep(format))
        {
            ReadStored(name, format, t.Shape[1], rows);
            return;
        }
        var buffer = t.Direct ?? new float[t.ElementCount];
        _file.Read(name, buffer);
        if (_scan) EnsureFinite(buffer, name, t.Shape, _file.Path);
        if (t.Direct is null) t.Import(buffer);
    }

    private bool IsMatrix(float[] a) =>
        ReferenceEquals(a, Globals.Embedding) || ReferenceEquals(a, Globals.LmHead) || _layer is { } l
        && (a == l.Query || a == l.Key || a == l.Value || a == l.Output || a == l.Gate || a == l.Up || a == l.Down);

    // Each of our matrices gets its rows' stored bytes, reordered where the checkpoint orders rows differently (llama.cpp's rope order).
    private void ReadStored(string name, Backends.WeightFormat format, int cols, IReadOnlyList<RowSource> sources)
    {
        int rowBytes = Backends.WeightFormats.RowBytes(format, cols);
        foreach (var source in sources)
        {
            int rows = source.Ours.Length / cols;
            var bytes = GC.AllocateUninitializedArray<byte>(checked(rows * rowBytes), pinned: true);
            if (source.Order is null) _file.ReadRows(name, source.First, rowBytes, bytes);
            else
                for (int r = 0; r < rows; r++) _file.ReadRows(name, source.First + source.Order[r], rowBytes, bytes.AsSpan(r * rowBytes, rowBytes));
            if (_scan) EnsureFinite(Backends.WeightFormats.Decode(format, bytes, (long)rows * cols), name, [rows, cols], _file.Path);
            (_layer is null ? _storedGlobals : _storedLayer)[source.Ours] = new StoredMatrix(format, rows, cols, bytes);
        }
    }

    // Sizes within ModelConfig's caps can still ask for many gigabytes; a config that implies far
    // more weights than the checkpoint holds is refused before any of them is allocated. Smaller
    // mismatches are left to the per-tensor check, which names the tensor and both shapes.
    private const long MaxUnstoredElements = 1 << 24;  // 64 MB of f32

    private static void EnsureEnoughStored(ModelConfig c, long stored, string path, string configSource)
    {
        long needed = c.MatrixParameters;
        if (needed - stored > MaxUnstoredElements)
            throw new ModelFormatException(path,
                $"{configSource} implies at least {needed} weights (embedding and layer matrices) but the checkpoint holds {stored}; " +
                "the config does not describe these weights");
    }

    private static void EnsureFinite(float[] values, string name, int[] shape, string path)
    {
        int i = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(values);
        if (float.IsFinite(values[i])) i = System.Numerics.Tensors.TensorPrimitives.IndexOfMin(values);
        if (float.IsFinite(values[i])) return;
        string at = shape.Length == 2 ? $"row {i / shape[1]}, column {i % shape[1]}" : $"element {i}";
        throw new ModelFormatException(path, $"tensor '{name}' holds {Generation.NonFiniteLogitsException.Describe(values[i])} at {at} (shape [{string.Join(", ", shape)}]); the weights are corrupt");
    }
}
