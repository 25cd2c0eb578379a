using System.Text;
using DistillSpec.Models;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// A GGUF file's header (metadata and tensor infos), read and checked up front; tensor data is
/// read on request. Problems are reported as ModelFormatException naming the file.
/// </summary>
public sealed class GgufFile
{
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string path, uint version, List<KeyValuePair<string, GgufValue>> metadata,
        List<GgufTensorInfo> tensors, int alignment, long dataOffset)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        _metadata = metadata.ToDictionary(p => p.Key, p => p.Value);
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
        Alignment = alignment;
        DataOffset = dataOffset;
    }

    public string Path { get; }
    public uint Version { get; }

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public int Alignment { get; }

    /// <summary>Absolute file offset of the data section; tensor offsets count from here.</summary>
    public long DataOffset { get; }

    public static GgufFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var binary = new BinaryReader(stream, Encoding.UTF8);
        var r = new GgufHeaderReader(binary, path, stream.Length);

        if (stream.Length < 4) throw r.Error($"not a GGUF file: only {stream.Length} bytes long");
        uint magic = r.UInt32("magic");
        if (magic != GgufFormat.Magic)
            throw r.Error($"not a GGUF file: it starts with bytes {Convert.ToHexString(BitConverter.GetBytes(magic))}, expected \"GGUF\" (47475546)");
        uint version = r.UInt32("version");
        if (version is not (2 or 3))
            throw r.Error($"GGUF version {version} is not supported; this reader handles versions 2 and 3");
        // A tensor info takes at least 8 (name length) + 4 + 8 + 4 + 8 bytes; a metadata entry at least 8 + 4 + 1.
        int tensorCount = r.Count("tensor count", 32);
        int kvCount = r.Count("metadata count", 13);

        var metadata = new List<KeyValuePair<string, GgufValue>>(kvCount);
        var keys = new HashSet<string>();
        for (int i = 0; i < kvCount; i++)
        {
            string key = r.String($"key of metadata entry {i}");
            if (!keys.Add(key)) throw r.Error($"duplicate metadata key '{key}'");
            var type = (GgufValueType)r.UInt32($"value type of '{key}'");
            metadata.Add(new(key, r.Value(type, key)));
        }
        int alignment = ReadAlignment(metadata, r);

        var tensors = new List<GgufTensorInfo>(tensorCount);
        var names = new HashSet<string>();
        for (int i = 0; i < tensorCount; i++)
        {
            var info = ReadTensorInfo(r, i, alignment);
            if (!names.Add(info.Name)) throw r.Error($"duplicate tensor name '{info.Name}'");
            tensors.Add(info);
        }

        long dataOffset = GgufFormat.Align(r.Position, alignment);
        foreach (var t in tensors)
        {
            if (t.Offset > stream.Length - dataOffset || t.ByteSize > stream.Length - dataOffset - t.Offset)
                throw r.Error($"tensor '{t.Name}': data [{t.Offset}, {t.Offset + t.ByteSize}) of the data section at byte {dataOffset} " +
                              $"extends past the end of the file ({stream.Length} bytes)");
        }
        CheckOverlaps(tensors, r);
        return new GgufFile(path, version, metadata, tensors, alignment, dataOffset);
    }

    private static int ReadAlignment(List<KeyValuePair<string, GgufValue>> metadata, GgufHeaderReader r)
    {
        var entry = metadata.FirstOrDefault(p => p.Key == GgufFormat.AlignmentKey);
        if (entry.Value is null) return GgufFormat.DefaultAlignment;
        if (entry.Value.Value is not uint a || a == 0 || (a & (a - 1)) != 0 || a > 1 << 20)
            throw r.Error($"{GgufFormat.AlignmentKey} must be a uint32 power of two, got {entry.Value.Type} {entry.Value}");
        return (int)a;
    }

    private static GgufTensorInfo ReadTensorInfo(GgufHeaderReader r, int index, int alignment)
    {
        string name = r.String($"name of tensor {index}");
        uint rank = r.UInt32($"dimension count of tensor '{name}'");
        if (rank is 0 or > GgufFormat.MaxDimensions)
            throw r.Error($"tensor '{name}' has {rank} dimensions; GGUF allows 1 to {GgufFormat.MaxDimensions}");
        var dims = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            ulong size = r.UInt64($"dimension {d} of tensor '{name}'");
            if (size == 0 || size > int.MaxValue)
                throw r.Error($"tensor '{name}' has dimension {d} of size {size}; sizes must be in 1..{int.MaxValue}");
            dims[d] = (long)size;
            elements *= dims[d];
            if (elements > int.MaxValue)
                throw r.Error($"tensor '{name}' has more than {int.MaxValue} elements, more than one array can hold");
        }
        uint type = r.UInt32($"type of tensor '{name}'");
        if (!GgmlTypes.IsSupported(type))
            throw r.Error($"tensor '{name}' has type {GgmlTypes.Describe(type)}, which this reader does not support; supported: {GgmlTypes.Supported}");
        int block = GgmlTypes.BlockSize((GgmlType)type);
        if (dims[0] % block != 0)
            throw r.Error($"tensor '{name}' is {(GgmlType)type} with rows of {dims[0]} values, not a whole number of {block}-value blocks");
        ulong offset = r.UInt64($"offset of tensor '{name}'");
        if (offset % (ulong)alignment != 0)
            throw r.Error($"tensor '{name}' starts at data offset {offset}, which is not a multiple of the alignment {alignment}");
        if (offset > long.MaxValue) throw r.Error($"tensor '{name}' starts at data offset {offset}, past any file");
        return new GgufTensorInfo(name, dims, (GgmlType)type, (long)offset);
    }

    private static void CheckOverlaps(List<GgufTensorInfo> tensors, GgufHeaderReader r)
    {
        var sorted = tensors.OrderBy(t => t.Offset).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i - 1].Offset + sorted[i - 1].ByteSize > sorted[i].Offset)
                throw r.Error($"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data section");
    }

    public bool Contains(string tensorName) => _byName.ContainsKey(tensorName);

    public GgufTensorInfo Tensor(string name) =>
        _byName.TryGetValue(name, out var info) ? info : throw new ModelFormatException(Path, $"no tensor named '{name}'");

    public bool TryGet(string key, out GgufValue value) => _metadata.TryGetValue(key, out value!);

    /// <summary>A metadata value of CLR type T (uint, float, string, string[], ...), or an error naming the key.</summary>
    public T Get<T>(string key)
    {
        if (!_metadata.TryGetValue(key, out var value)) throw new ModelFormatException(Path, $"metadata key '{key}' is missing");
        return value.Value is T typed ? typed
            : throw new ModelFormatException(Path, $"metadata '{key}' is {value.Type}{(value.ElementType is { } e ? $" of {e}" : "")}, expected {typeof(T).Name}");
    }

    /// <summary>An integer metadata value in any GGUF integer type that holds it (llama.cpp writes uint32 or int32), or null when absent.</summary>
    internal int? OptionalInt(string key)
    {
        if (!_metadata.TryGetValue(key, out var value)) return null;
        long? n = value.Value switch
        {
            byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v,
            ulong v => v <= long.MaxValue ? (long)v : null, long v => v, _ => null,
        };
        if (n is null) throw new ModelFormatException(Path, $"metadata '{key}' is {value.Type}, expected an integer");
        if (n < 0 || n > int.MaxValue) throw new ModelFormatException(Path, $"metadata '{key}' is {n}, outside 0..{int.MaxValue}");
        return (int)n;
    }

    /// <summary>A metadata value of CLR type T, or default when absent; present with another type is an error naming the key.</summary>
    internal T? Optional<T>(string key) => _metadata.ContainsKey(key) ? Get<T>(key) : default;

    /// <summary>A tensor's values as f32, converted from its stored type; in row-major order of <see cref="GgufTensorInfo.Shape"/>.</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Tensor(name);
        var values = new float[info.ElementCount];
        using var data = OpenData();
        data.ReadSingle(info, values);
        return values;
    }

    /// <summary>The data section, memory-mapped read-only; tensors are read from it without a copy of the file.</summary>
    internal GgufTensorData OpenData() => GgufTensorData.Open(this);
}
