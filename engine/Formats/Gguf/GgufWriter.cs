using System.Text;
using DistillSpec.IO;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file: header, metadata in insertion order, tensor infos, then the data
/// section with every tensor starting at a multiple of the alignment.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<(string Name, float[] Data, long[] Dimensions, GgmlType Type)> _tensors = [];
    private readonly int _alignment;

    /// <param name="alignment">Data alignment; anything but 32 is recorded as general.alignment.</param>
    public GgufWriter(int alignment = GgufFormat.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a positive power of two");
        _alignment = alignment;
        if (alignment != GgufFormat.DefaultAlignment) Add(GgufFormat.AlignmentKey, (uint)alignment);
    }

    public int MetadataCount => _metadata.Count;

    public int TensorCount => _tensors.Count;

    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_metadata.Any(p => p.Key == key)) throw new ArgumentException($"metadata key '{key}' added twice", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    /// <param name="shape">Row-major shape, e.g. (out, in) for a Linear weight; stored reversed.</param>
    public GgufWriter AddTensor(string name, float[] data, int[] shape, GgmlType type = GgmlType.F32)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' added twice", nameof(name));
        if (shape.Length is 0 or > GgufFormat.MaxDimensions)
            throw new ArgumentException($"tensor '{name}' has {shape.Length} dimensions; GGUF allows 1 to {GgufFormat.MaxDimensions}", nameof(shape));
        long count = shape.Aggregate(1L, (n, d) => n * d);
        if (shape.Any(d => d <= 0) || count != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] does not hold {data.Length} values", nameof(shape));
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this writer encodes");
        int block = GgmlTypes.BlockSize(type);
        if (shape[^1] % block != 0)
            throw new ArgumentException($"tensor '{name}': {type} needs rows whose length is a multiple of {block}, got shape [{string.Join(", ", shape)}]", nameof(shape));
        _tensors.Add((name, data, shape.Reverse().Select(d => (long)d).ToArray(), type));
        return this;
    }

    public void Save(string path)
    {
        // Through a temporary file: a failed export (a full disk) must not destroy a good file at path.
        AtomicFile.Write(path, Write);
    }

    public void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFormat.Magic);
        w.Write(GgufFormat.Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        foreach (var (name, _, dims, type) in _tensors)
        {
            offset = GgufFormat.Align(offset, _alignment);
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims) w.Write((ulong)d);
            w.Write((uint)type);
            w.Write((ulong)offset);
            offset += GgmlTypes.ByteSize(type, dims.Aggregate(1L, (n, d) => n * d));
        }
        long dataStart = Pad(w, w.BaseStream.Position);
        foreach (var (_, data, _, type) in _tensors)
        {
            Pad(w, w.BaseStream.Position - dataStart);
            WriteData(w, data, type);
        }
        w.Flush();
    }

    // Writes zeros up to the next multiple of the alignment (relative to where counting began).
    private long Pad(BinaryWriter w, long position)
    {
        long aligned = GgufFormat.Align(position, _alignment);
        for (long i = position; i < aligned; i++) w.Write((byte)0);
        return w.BaseStream.Position;
    }

    // In pieces of whole blocks, so a large tensor is never converted in one allocation.
    private static void WriteData(BinaryWriter w, float[] data, GgmlType type)
    {
        int chunk = 1 << 16;
        for (int start = 0; start < data.Length; start += chunk)
            w.Write(GgmlCodec.FromSingle(type, data.AsSpan(start, Math.Min(chunk, data.Length - start))));
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        if (value.Value is Array array)
        {
            w.Write((uint)value.ElementType!.Value);
            w.Write((ulong)array.Length);
            foreach (object item in array) WriteScalar(w, item);
        }
        else WriteScalar(w, value.Value);
    }

    private static void WriteScalar(BinaryWriter w, object item)
    {
        switch (item)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case float v: w.Write(v); break;
            case double v: w.Write(v); break;
            case bool v: w.Write((byte)(v ? 1 : 0)); break;
            case string v: WriteString(w, v); break;
            default: throw new InvalidOperationException($"no GGUF encoding for {item.GetType()}");
        }
    }
}
